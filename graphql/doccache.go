package graphql

import (
	"crypto/sha256"
	"sync"

	"github.com/graphql-go/graphql/language/ast"
)

// Validation is most of the facade's own work for a small query (about
// two thirds of BenchmarkUserQuery), and clients send the same few query
// texts over and over. docCache keeps documents that parsed, passed the
// checks of measure and validated, keyed by the SHA-256 of their text; a
// hit skips parsing and validation but not the limits, which depend on
// the variables. graphql-go only reads a document while executing it, so
// one document serves concurrent requests.
//
// The cache is bounded by an estimate of the memory its documents hold:
// a parsed document takes about sixteen times its text (measured on the
// usual introspection query), so each counts twenty times its length.
// When full it drops arbitrary entries; that is a cheap bound, not a
// recency policy, and a miss only costs a parse and a validation.
type docCache struct {
	max int

	mu      sync.RWMutex
	size    int
	entries map[[sha256.Size]byte]docEntry
}

type docEntry struct {
	doc    *ast.Document
	weight int
}

// docWeightFactor turns a query's length into its estimated memory.
const docWeightFactor = 20

func newDocCache(maxBytes int) *docCache {
	if maxBytes < 0 {
		return nil
	}
	return &docCache{max: maxBytes, entries: map[[sha256.Size]byte]docEntry{}}
}

func (c *docCache) get(key [sha256.Size]byte) *ast.Document {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.entries[key].doc
}

func (c *docCache) put(key [sha256.Size]byte, query string, doc *ast.Document) {
	if c == nil {
		return
	}
	w := len(query) * docWeightFactor
	if w > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; ok {
		return
	}
	for k, e := range c.entries {
		if c.size+w <= c.max {
			break
		}
		delete(c.entries, k)
		c.size -= e.weight
	}
	c.entries[key] = docEntry{doc: doc, weight: w}
	c.size += w
}

func (c *docCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
