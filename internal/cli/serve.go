package cli

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"time"

	"itscope/data"
	"itscope/model/jobs"
	"itscope/ui/serve"
)

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("serve", "--authorized-keys FILE [--listen 127.0.0.1:2222] [--host-key PATH] [--runs DIR] [--data-root DIR] [--data SPEC] [--admin-keys FILE] [--max-sessions N] [--max-jobs N] [--max-jobs-per-user N] [--max-job-memory SIZE] [--idle-timeout D] [--weights NAME=FILE]...", stderr)
	listen := fs.String("listen", "127.0.0.1:2222", "`ADDRESS` to listen on")
	keys := fs.String("authorized-keys", "", "authorized_keys `FILE` of the public keys let in (re-read when it changes)")
	anyKey := fs.Bool("allow-any-key", false, "let any public key in (loopback addresses only, for trying it out)")
	hostKey := fs.String("host-key", "", "private host key `PATH`, generated there (mode 0600) on first start (default $XDG_CONFIG_HOME/itscope/ssh_host_ed25519, else ~/.config/itscope/ssh_host_ed25519)")
	runsDir := fs.String("runs", "", runsFlagUsage(" shared by every session"))
	dataRoot := fs.String("data-root", "", "`DIR` under which remote users may open datasets (default: the embedded demo only)")
	dataSpec := fs.String("data", "", "dataset `SPEC` every session opens at start: demo, demo:SESSION or a name under --data-root")
	adminKeys := fs.String("admin-keys", "", "authorized_keys `FILE` of the keys that may cancel anyone's job (others cancel only their own)")
	maxPerUser := fs.Int("max-jobs-per-user", serve.DefaultMaxJobsPerUser, "jobs one key may have queued and running at once (`N`)")
	var maxMemory memoryFlag
	addMaxJobMemory(fs, &maxMemory, "a quarter")
	maxSessions := fs.Int("max-sessions", 16, "sessions at once (`N`); more are told so and closed")
	maxJobs := fs.Int("max-jobs", 2, "jobs running at once (`N`); the rest queue")
	var cf cacheFlags
	addCache(fs, &cf, " shared by every session")
	idle := fs.Duration("idle-timeout", 30*time.Minute, "close a session after this long without input or output (`D`, 0 for never)")
	weights := networkWeights{}
	fs.Var(weights, "weights", "`NAME=FILE`: a torchvision ONNX export for network NAME (resnet18, resnet50, vgg19, mobilenetv2), offered to every session; repeatable")
	rest, status, ok := parseFlags(fs, args)
	if !ok {
		return status
	}
	switch {
	case len(rest) > 0:
		return usageError(stderr, "serve", "unexpected argument %q", rest[0])
	case *maxSessions < 1:
		return usageError(stderr, "serve", "--max-sessions: want at least 1, found %d", *maxSessions)
	case *maxJobs < 1:
		return usageError(stderr, "serve", "--max-jobs: want at least 1, found %d", *maxJobs)
	case *maxPerUser < 1:
		return usageError(stderr, "serve", "--max-jobs-per-user: want at least 1, found %d", *maxPerUser)
	case *idle < 0:
		return usageError(stderr, "serve", "--idle-timeout: want 0 or more, found %s", *idle)
	}
	if *dataRoot != "" {
		if st, err := os.Stat(*dataRoot); err != nil || !st.IsDir() {
			return usageError(stderr, "serve", "--data-root %s: want an existing folder", *dataRoot)
		}
	}
	if *hostKey == "" {
		*hostKey = defaultHostKey()
	}
	store, err := openRunStore(*runsDir)
	if err != nil {
		return fail(stderr, "serve", err)
	}
	engine := jobs.NewEngine(store, *maxJobs)
	// Every session sees every job of the store, whoever runs it.
	engine.Follow()
	logger := log.New(stderr, "itscope serve: ", log.LstdFlags)
	srv, err := serve.New(serve.Config{
		Listen:         *listen,
		AuthorizedKeys: *keys,
		AllowAnyKey:    *anyKey,
		HostKey:        *hostKey,
		DataRoot:       *dataRoot,
		Data:           *dataSpec,
		AdminKeys:      *adminKeys,
		MaxJobMemory:   maxMemory.bytes(4),
		MaxJobsPerUser: *maxPerUser,
		MaxSessions:    *maxSessions,
		IdleTimeout:    *idle,
		Datasets:       dedupe(append([]string{"demo", "demo:" + data.DemoSessions[1]}, recentDatasets(store, 5)...)),
		ExportDir:      filepath.Join(store.Dir, "exports"), // not a run: the store skips it
		FilesRoot:      store.Dir,
		Weights:        weights,
		CacheDir:       cf.dir,
		CacheMax:       cf.maxBytes(),
		Log:            logger,
	}, engine)
	if err != nil {
		fmt.Fprintln(stderr, "itscope", err)
		return 1
	}
	ctx, stop := interruptible()
	defer stop()
	fmt.Fprintf(stdout, "itscope serve: listening on %s, runs in %s; connect with: ssh -p PORT HOST\n", *listen, store.Dir)
	fmt.Fprintf(stdout, "itscope serve: host key %s (clients see this fingerprint on first connection)\n", srv.HostKeyFingerprint())
	served := make(chan error, 1)
	go func() { served <- srv.ListenAndServe() }()
	select {
	case err := <-served:
		if err != nil {
			return fail(stderr, "serve", err)
		}
		return 0
	case <-ctx.Done():
	}
	stop() // a second Ctrl-C now kills at once
	logger.Print("signal received: telling sessions, cancelling jobs")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fail(stderr, "serve", err)
	}
	<-served
	logger.Print("stopped; every finished run is in the store")
	return 0
}

// defaultHostKey is $XDG_CONFIG_HOME/itscope/ssh_host_ed25519, else under
// ~/.config.
func defaultHostKey() string {
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "itscope", "ssh_host_ed25519")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".config", "itscope", "ssh_host_ed25519")
	}
	return "itscope_ssh_host_ed25519"
}
