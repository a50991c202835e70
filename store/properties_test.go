package store_test

import (
	"context"
	"strings"
	"testing"

	"credprops/store"
)

func TestLoad_RegexCannotEscapeAnchors(t *testing.T) {
	s := openStore(t)
	before := s.Snapshot(t)

	_, err := s.Load(context.Background(), store.Seed{Properties: []store.SeedProperty{
		{Name: "code", StringRegex: ptr(`[0-9]+)|(.*`), Line: 3},
	}})

	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("Load error = %v, want one naming line 3", err)
	}
	if len(s.Snapshot(t)["property_definitions"]) != len(before["property_definitions"]) {
		t.Error("a rejected definition was stored")
	}
}
