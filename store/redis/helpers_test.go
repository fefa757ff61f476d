package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/gatehouse-auth/gatehouse/store/redis"
	goredis "github.com/redis/go-redis/v9"
)

// newClient connects to the server named by GATEHOUSE_REDIS_URL. Without
// it the test is skipped, except under CI, where a missing server is a
// failure.
func newClient(t *testing.T) *goredis.Client {
	t.Helper()
	url := os.Getenv("GATEHOUSE_REDIS_URL")
	if url == "" {
		const msg = "GATEHOUSE_REDIS_URL is not set; start a server with: eval \"$(scripts/services start)\""
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " (CI is set: a missing server fails the tests)")
		}
		t.Skip(msg)
	}
	opt, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatalf("GATEHOUSE_REDIS_URL: %v", err)
	}
	c := goredis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redis at %s: %v", url, err)
	}
	return c
}

// newDB returns a DB under a fresh random prefix, whose keys are deleted
// when the test ends.
func newDB(t *testing.T) (*redis.DB, *goredis.Client, string) {
	t.Helper()
	c := newClient(t)
	b := make([]byte, 8)
	rand.Read(b)
	prefix := "gatehousetest:" + hex.EncodeToString(b) + ":"
	db, err := redis.New(c, redis.Config{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	})
	return db, c, prefix
}

// keysUnder returns the keys stored under prefix.
func keysUnder(t *testing.T, c *goredis.Client, prefix string) []string {
	t.Helper()
	keys, err := c.Keys(context.Background(), prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	return keys
}
