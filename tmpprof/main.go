package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/modules"
)

func main() {
	src, _ := os.ReadFile(os.Args[1])
	f, _ := os.Create(os.Args[2])
	pprof.StartCPUProfile(f)
	argv := append([]string{os.Args[1]}, os.Args[3:]...)
	in := lang.New(lang.Options{Stdout: os.Stdout, Stderr: os.Stderr, Argv: argv, Predeclared: modules.Universe(modules.Env{Argv: argv})})
	t := time.Now()
	_, err := in.ExecFile(os.Args[1], string(src))
	fmt.Println(time.Since(t), err)
	in.Close()
	pprof.StopCPUProfile()
}
