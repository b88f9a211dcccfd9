//go:build tools

// Package tools pins cmd/prometheus in this module's graph (build.sh builds it).
package tools

import _ "github.com/prometheus/prometheus/cmd/prometheus"
