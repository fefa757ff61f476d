package session_test

import (
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/session"
)

func TestDataTypedAccessors(t *testing.T) {
	var d session.Data
	d.SetString("s", "plant-7")
	d.SetInt("n", -42)
	d.SetBool("b", true)
	when := time.Date(2030, 1, 2, 3, 4, 5, 6, time.FixedZone("CET", 3600))
	d.SetTime("t", when)

	if v, ok := d.String("s"); !ok || v != "plant-7" {
		t.Errorf("String = %q, %v", v, ok)
	}
	if v, ok := d.Int("n"); !ok || v != -42 {
		t.Errorf("Int = %d, %v", v, ok)
	}
	if v, ok := d.Bool("b"); !ok || !v {
		t.Errorf("Bool = %v, %v", v, ok)
	}
	if v, ok := d.Time("t"); !ok || !v.Equal(when) {
		t.Errorf("Time = %v, %v", v, ok)
	}
	tests := []struct {
		name string
		ok   bool
	}{
		{"int read from a string", func() bool { _, ok := d.Int("s"); return ok }()},
		{"bool read from an int", func() bool { _, ok := d.Bool("n"); return ok }()},
		{"time read from a bool", func() bool { _, ok := d.Time("b"); return ok }()},
		{"missing string", func() bool { _, ok := d.String("missing"); return ok }()},
		{"missing int", func() bool { _, ok := d.Int("missing"); return ok }()},
	}
	for _, tc := range tests {
		if tc.ok {
			t.Errorf("%s reported ok", tc.name)
		}
	}
	if got := d.Keys(); len(got) != 4 || got[0] != "b" || got[3] != "t" {
		t.Errorf("Keys = %v, want sorted b n s t", got)
	}
	d.Delete("s")
	d.Delete("never-set")
	if _, ok := d.String("s"); ok {
		t.Errorf("deleted key still present")
	}
	d.Clear()
	if len(d.Keys()) != 0 {
		t.Errorf("Clear left %v", d.Keys())
	}
}
