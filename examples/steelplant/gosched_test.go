package main

import "runtime"

func runtimeGosched() { runtime.Gosched() }
