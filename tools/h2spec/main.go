// Command h2spec runs the h2spec conformance suite (github.com/summerwind/h2spec, MIT licence) against a
// server. The suite's packages come from its vendored source; this is asgicy's own small front end for
// them, with the standard library's flag package, because the vendored copy has no command of its own.
//
//	h2spec -S -h 127.0.0.1 -p 8000            strict mode over h2c (prior knowledge)
//	h2spec -S -t -k -h 127.0.0.1 -p 8443      strict mode over TLS (ALPN h2), any certificate
//	h2spec -S -p 8000 generic/1 http2/6.5     only these sections
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/summerwind/h2spec"
	"github.com/summerwind/h2spec/config"
)

func main() {
	c := &config.Config{}
	flag.StringVar(&c.Host, "h", "127.0.0.1", "target host")
	flag.IntVar(&c.Port, "p", 0, "target port (default 80, or 443 with -t)")
	flag.StringVar(&c.Path, "P", "/", "target path")
	timeout := flag.Int("o", 2, "time out of each test case, in seconds")
	flag.IntVar(&c.MaxHeaderLen, "max-header-length", 4000, "maximum length of a test header field")
	flag.StringVar(&c.JUnitReport, "j", "", "write a JUnit XML report to this file")
	flag.BoolVar(&c.Strict, "S", false, "strict mode: the tests of what the RFC says SHOULD, too")
	flag.BoolVar(&c.TLS, "t", false, "connect over TLS")
	flag.BoolVar(&c.Insecure, "k", false, "do not verify the server's certificate")
	flag.BoolVar(&c.Verbose, "v", false, "verbose output")
	flag.BoolVar(&c.DryRun, "dryrun", false, "list the test cases without running them")
	flag.Parse()
	c.Timeout = time.Duration(*timeout) * time.Second
	c.Sections = flag.Args()
	if c.Port == 0 {
		c.Port = 80
		if c.TLS {
			c.Port = 443
		}
	}
	ok, err := h2spec.Run(c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "h2spec:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}
