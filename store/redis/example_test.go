package redis_test

import (
	"log"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/ratelimit"
	"github.com/gatehouse-auth/gatehouse/store/redis"
	goredis "github.com/redis/go-redis/v9"
)

// A request limit shared by every instance of a service: 100 requests per
// minute per client IP, each decision one round trip to Redis. When Redis is
// down the middleware answers 503.
func Example() {
	client := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
	defer client.Close()
	db, err := redis.New(client, redis.Config{Prefix: "myapp:"})
	if err != nil {
		log.Fatal(err)
	}
	limiter, err := db.Limiter(redis.LimiterConfig{Name: "api", Limit: 100, Period: time.Minute})
	if err != nil {
		log.Fatal(err)
	}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	http.Handle("/api/", ratelimit.Middleware(limiter, ratelimit.ByClientIP)(api))
}
