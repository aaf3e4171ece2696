package jobs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// SlurmConfig is what the Slurm executor asks sbatch for, per task. Zero
// fields leave the cluster's defaults. The user's defaults come from the
// "slurm" object of $XDG_CONFIG_HOME/itscope/config.json (see
// docs/cluster.md); the command line's --slurm-* flags override them.
type SlurmConfig struct {
	Partition  string `json:"partition,omitempty"`
	Account    string `json:"account,omitempty"`
	QOS        string `json:"qos,omitempty"`
	Constraint string `json:"constraint,omitempty"`
	// Time is a Slurm time limit: minutes, MM:SS, HH:MM:SS, D-HH,
	// D-HH:MM or D-HH:MM:SS.
	Time string `json:"time,omitempty"`
	// Mem is the memory per node, a number with an optional K, M, G or T.
	Mem         string `json:"mem,omitempty"`
	CPUsPerTask int    `json:"cpus_per_task,omitempty"`
	// GPUs is a count or TYPE:COUNT, requested as --gres=gpu:GPUs.
	GPUs string `json:"gpus,omitempty"`
	// MaxRunning K throttles each array to K running tasks (--array=...%K).
	MaxRunning int `json:"max_running,omitempty"`
	// Args are passed to sbatch as they are, after the options above.
	Args []string `json:"args,omitempty"`
	// Requeue lets Slurm requeue a task whose node failed or that was
	// preempted; without it such a task fails.
	Requeue bool `json:"requeue,omitempty"`
}

// userConfig is config.json; only the "slurm" object is read here, other
// keys belong to other parts of itscope.
type userConfig struct {
	Slurm *json.RawMessage `json:"slurm"`
}

// UserConfigPath is the per-user config file:
// $XDG_CONFIG_HOME/itscope/config.json, or ~/.config/itscope/config.json
// when XDG_CONFIG_HOME is not set.
func UserConfigPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("itscope config: %w", err)
	}
	return filepath.Join(dir, "itscope", "config.json"), nil
}

// LoadSlurmConfig reads the "slurm" object of the config file at path. A
// missing file or a file without "slurm" gives the zero config; an unknown
// key or a bad value is an error naming the file and the key.
func LoadSlurmConfig(path string) (SlurmConfig, error) {
	var c SlurmConfig
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("itscope config %s: %w", path, err)
	}
	var u userConfig
	if err := json.Unmarshal(b, &u); err != nil {
		return c, fmt.Errorf("itscope config %s: %v", path, err)
	}
	if u.Slurm == nil {
		return c, nil
	}
	dec := json.NewDecoder(bytes.NewReader(*u.Slurm))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("itscope config %s: key \"slurm\": %v (keys: partition, account, qos, constraint, time, mem, cpus_per_task, gpus, max_running, args, requeue)", path, err)
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("itscope config %s: key \"slurm\": %w", path, err)
	}
	return c, nil
}

// Override returns c with every non-zero field of over in place of c's:
// the command line's flags over the config file. Requeue can only be
// turned on this way.
func (c SlurmConfig) Override(over SlurmConfig) SlurmConfig {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&c.Partition, over.Partition)
	set(&c.Account, over.Account)
	set(&c.QOS, over.QOS)
	set(&c.Constraint, over.Constraint)
	set(&c.Time, over.Time)
	set(&c.Mem, over.Mem)
	set(&c.GPUs, over.GPUs)
	if over.CPUsPerTask != 0 {
		c.CPUsPerTask = over.CPUsPerTask
	}
	if over.MaxRunning != 0 {
		c.MaxRunning = over.MaxRunning
	}
	if len(over.Args) > 0 {
		c.Args = over.Args
	}
	c.Requeue = c.Requeue || over.Requeue
	return c
}

var (
	slurmTimeRE = regexp.MustCompile(`^(\d+-\d+(:\d+(:\d+)?)?|\d+(:\d+(:\d+)?)?)$`)
	slurmMemRE  = regexp.MustCompile(`^\d+[KMGT]?$`)
	slurmGPUsRE = regexp.MustCompile(`^([A-Za-z0-9_.-]+:)?\d+$`)
)

// executorOwned are sbatch options the executor sets itself; --slurm-args
// may not set them, or the tasks would not find their jobs.
var executorOwned = []string{"--array", "-a", "--output", "-o", "--error", "-e", "--parsable", "--wrap",
	"--signal", "--dependency", "-d", "--kill-on-invalid-dep", "--job-name", "-J", "--requeue", "--no-requeue"}

// Validate checks each field's form, naming the command-line flag (and the
// config key) of a bad one, so a typo is caught before sbatch sees it.
func (c SlurmConfig) Validate() error {
	bad := func(flag, key, val, want string) error {
		return fmt.Errorf("--slurm-%s (config key %q) %q: want %s", flag, key, val, want)
	}
	if c.Time != "" && !slurmTimeRE.MatchString(c.Time) {
		return bad("time", "time", c.Time, "minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS")
	}
	if c.Mem != "" && !slurmMemRE.MatchString(c.Mem) {
		return bad("mem", "mem", c.Mem, "a number with an optional K, M, G or T suffix, e.g. 8G")
	}
	if c.GPUs != "" && !slurmGPUsRE.MatchString(c.GPUs) {
		return bad("gpus", "gpus", c.GPUs, "a count or TYPE:COUNT, e.g. 1 or a100:2")
	}
	if c.CPUsPerTask < 0 {
		return bad("cpus", "cpus_per_task", strconv.Itoa(c.CPUsPerTask), "a positive count")
	}
	if c.MaxRunning < 0 {
		return bad("max-running", "max_running", strconv.Itoa(c.MaxRunning), "a positive count")
	}
	for _, name := range []struct{ flag, key, val string }{
		{"partition", "partition", c.Partition}, {"account", "account", c.Account},
		{"qos", "qos", c.QOS}, {"constraint", "constraint", c.Constraint},
	} {
		if strings.ContainsAny(name.val, " \t\n'\"") {
			return bad(name.flag, name.key, name.val, "no spaces or quotes")
		}
	}
	for _, a := range c.Args {
		opt, _, _ := strings.Cut(a, "=")
		for _, owned := range executorOwned {
			if opt == owned || len(owned) == 2 && strings.HasPrefix(a, owned) && !strings.HasPrefix(a, "--") {
				return fmt.Errorf("--slurm-args (config key \"args\") %q: itscope sets %s itself", a, owned)
			}
		}
	}
	return nil
}

// sbatchOptions are the #SBATCH lines for c's resources.
func (c SlurmConfig) sbatchOptions() []string {
	var out []string
	add := func(opt, v string) {
		if v != "" {
			out = append(out, opt+"="+v)
		}
	}
	add("--partition", c.Partition)
	add("--account", c.Account)
	add("--qos", c.QOS)
	add("--constraint", c.Constraint)
	add("--time", c.Time)
	add("--mem", c.Mem)
	if c.CPUsPerTask > 0 {
		add("--cpus-per-task", strconv.Itoa(c.CPUsPerTask))
	}
	if c.GPUs != "" {
		add("--gres", "gpu:"+c.GPUs)
	}
	if c.Requeue {
		out = append(out, "--requeue")
	} else {
		out = append(out, "--no-requeue")
	}
	return out
}
