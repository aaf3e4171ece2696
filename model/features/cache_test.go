package features

import (
	"testing"
)

func TestDefaultCacheDir(t *testing.T) {
	t.Setenv(CacheEnv, "")
	t.Setenv("XDG_CACHE_HOME", "/x/cache")
	if got := DefaultCacheDir(); got != "/x/cache/itscope" {
		t.Errorf("with XDG_CACHE_HOME: %q", got)
	}
	t.Setenv(CacheEnv, "/y")
	if got := DefaultCacheDir(); got != "/y" {
		t.Errorf("with %s: %q", CacheEnv, got)
	}
}
