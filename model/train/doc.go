// Package train trains CNNs from a spec on neural responses, co-trains a
// pretrained network's top stages on responses and object labels, and
// predicts with saved networks. TrainJob and CotrainJob are the one place
// their jobs are made.
package train
