// Command gendoc writes docs/cli.md from itscope's command table:
//
//	go generate ./internal/cli
package main
