package lab

import "syscall"

func refusedErr() error { return syscall.ECONNREFUSED }
