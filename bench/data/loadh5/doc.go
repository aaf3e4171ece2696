// Command loadh5 times data.Open on one dataset spec (bench/data/run.sh).
package main
