// Command train-bench times one training epoch of the study's 3-layer CNN
// (conv3x3 32-64-128, batchnorm, ReLU, max-pool 2, flatten, linear to 168
// neurons; MSE, Adam lr 1e-3 wd 1e-3, batch 32) over 2592 random images, the
// size of NX-414's train split, through itscope's training loop
// (train.TrainCNN), and prints one JSON line per size with the time and the
// process's peak RSS. bench_torch.py is its PyTorch peer; run.sh runs both.
package main
