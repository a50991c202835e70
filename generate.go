// Package main is the credprops command. The line below regenerates gen/ from
// openapi.yaml with the oapi-codegen version pinned in go.mod's tool block.
package main

//go:generate go tool oapi-codegen -config gen/config.yaml openapi.yaml
