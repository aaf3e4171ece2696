package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"itscope/compute"
	"itscope/data"
	"itscope/model/jobs"
	"itscope/model/train"
)

func main() {
	sizes := flag.String("sizes", "64,224", "input sizes")
	images := flag.Int("images", 2592, "training images")
	val := flag.Int("val", 32, "validation images (scored once at the end of the epoch)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	flag.Parse()
	// As main does: the BLAS and the heap policy are chosen explicitly, not
	// by importing compute.
	compute.UseOpenBLAS()
	compute.BoundHeap()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}
	for _, s := range strings.Split(*sizes, ",") {
		size, err := strconv.Atoi(s)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if err := bench(size, *images, *val); err != nil {
			fmt.Fprintln(os.Stderr, err)
			pprof.StopCPUProfile()
			os.Exit(1)
		}
	}
}

func bench(size, nTrain, nVal int) error {
	const neurons = 168
	n := nTrain + nVal
	rng := rand.New(rand.NewPCG(0, 0))
	// Stimuli stored as normalised tensors, as NX-414's are, so that the
	// epoch time is the network's alone.
	pix := make([]float32, n*3*size*size)
	for i := range pix {
		pix[i] = float32(rng.NormFloat64())
	}
	st, err := data.TensorImages(pix, n, 3, size, size)
	if err != nil {
		return err
	}
	resp := make([]float32, n*neurons)
	for i := range resp {
		resp[i] = float32(rng.NormFloat64())
	}
	trainIdx, valIdx := make([]int, nTrain), make([]int, nVal)
	for i := range trainIdx {
		trainIdx[i] = i
	}
	for i := range valIdx {
		valIdx[i] = nTrain + i
	}
	ds := &data.Dataset{Name: "bench", Hash: "bench", Images: st, NumNeurons: neurons, Responses: resp,
		Splits: []data.Split{{Name: data.Train, Indices: trainIdx, HasResponses: true}, {Name: data.Val, Indices: valIdx, HasResponses: true}}}
	cfg := train.DefaultTrainConfig()
	cfg.CNN, _ = train.ParseCNNSpec(fmt.Sprintf("layers=3,channels=32-64-128,kernel=3,pool=2,bn=on,size=%d", size))
	cfg.Epochs = 1
	var last float64
	cpu0 := cpuSeconds()
	start := time.Now()
	_, err = train.TrainCNN(context.Background(), ds, cfg, func(e jobs.Event) {
		if e.Kind == jobs.EventStep {
			last = e.TrainLoss
		}
	})
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	cpu := cpuSeconds() - cpu0
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	b, _ := json.Marshal(map[string]any{"impl": "itscope", "gomaxprocs": runtime.GOMAXPROCS(0), "size": size,
		"images": nTrain, "val_images": nVal, "batch": cfg.Batch, "epoch_s": round3(secs), "cpu_s": round3(cpu), "last_loss": round3(last),
		"peak_rss_mb": ru.Maxrss / 1024})
	fmt.Println(string(b))
	return nil
}

// cpuSeconds is the process's CPU time on all threads: steadier than wall
// time on a shared machine, for comparing two builds.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func round3(x float64) float64 { return float64(int64(x*1000+0.5)) / 1000 }
