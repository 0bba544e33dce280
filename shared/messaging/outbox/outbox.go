// Package outbox is the development sender: it keeps in memory what would
// have been sent by email, SMS or voice, so that the local process can show
// a verification link or a one-time code without any provider.
//
// It checks messages exactly as the real senders do, so bad input fails here
// the same way. It is bounded: past Capacity, the oldest record is dropped.
// It belongs to one process and is never a delivery mechanism: nothing in it
// survives a restart, and it must not be wired into a deployment, since
// whoever can list it reads every code.
package outbox

import (
	"context"
	"sync"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/messaging"
)

// DefaultCapacity is the number of records kept when Options.Capacity is 0.
const DefaultCapacity = 1000

// Channel says how a record would have been sent.
type Channel string

const (
	ChannelEmail Channel = "email"
	ChannelSMS   Channel = "sms"
	ChannelVoice Channel = "voice"
)

// Record is one message the outbox accepted. Exactly one of Email, SMS and
// Voice is set, as Channel says.
type Record struct {
	// Seq numbers records in the order they were accepted, from 1.
	Seq      uint64
	At       time.Time
	Channel  Channel
	TenantID string
	Kind     messaging.Kind
	Email    *messaging.Email
	SMS      *messaging.SMS
	Voice    *messaging.Voice
}

// Options configure an Outbox. The zero value is ready to use.
type Options struct {
	// Capacity bounds the records kept, across all tenants; zero means
	// DefaultCapacity.
	Capacity int
	// Now stamps records; nil means time.Now.
	Now func() time.Time
}

// Outbox records messages instead of sending them. It is safe for
// concurrent use.
type Outbox struct {
	now func() time.Time

	mu sync.Mutex
	// ring holds the last n records; the newest is just before next,
	// wrapping around. A full ring overwrites its oldest record.
	ring []Record
	n    int
	next int
	seq  uint64
}

var (
	_ messaging.EmailSender = (*Outbox)(nil)
	_ messaging.PhoneSender = (*Outbox)(nil)
)

// New returns an empty outbox.
func New(o Options) (*Outbox, error) {
	if o.Capacity < 0 {
		return nil, errs.Invalid("Capacity", "must not be negative")
	}
	if o.Capacity == 0 {
		o.Capacity = DefaultCapacity
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Outbox{now: o.Now, ring: make([]Record, o.Capacity)}, nil
}

// Send records m after checking it like any EmailSender.
func (o *Outbox) Send(ctx context.Context, m messaging.Email) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return messaging.ProviderFailure("outbox", "Send", err)
	}
	c := m.Clone()
	o.add(Record{Channel: ChannelEmail, TenantID: m.TenantID, Kind: m.Kind, Email: &c})
	return nil
}

// SendSMS records m after checking it like any SMSSender.
func (o *Outbox) SendSMS(ctx context.Context, m messaging.SMS) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return messaging.ProviderFailure("outbox", "SendSMS", err)
	}
	o.add(Record{Channel: ChannelSMS, TenantID: m.TenantID, Kind: m.Kind, SMS: &m})
	return nil
}

// Call records m after checking it like any VoiceCaller.
func (o *Outbox) Call(ctx context.Context, m messaging.Voice) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return messaging.ProviderFailure("outbox", "Call", err)
	}
	o.add(Record{Channel: ChannelVoice, TenantID: m.TenantID, Kind: m.Kind, Voice: &m})
	return nil
}

func (o *Outbox) add(r Record) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seq++
	r.Seq = o.seq
	r.At = o.now()
	o.ring[o.next] = r
	o.next = (o.next + 1) % len(o.ring)
	if o.n < len(o.ring) {
		o.n++
	}
}

// List returns the records of tenantID, newest first. The records are
// copies: changing them changes nothing in the outbox.
func (o *Outbox) List(tenantID string) []Record {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []Record
	for i := 1; i <= o.n; i++ {
		r := o.ring[(o.next-i+len(o.ring))%len(o.ring)]
		if r.TenantID == tenantID {
			out = append(out, r.clone())
		}
	}
	return out
}

// Len returns the number of records kept, across all tenants.
func (o *Outbox) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n
}

func (r Record) clone() Record {
	if r.Email != nil {
		c := r.Email.Clone()
		r.Email = &c
	}
	if r.SMS != nil {
		c := *r.SMS
		r.SMS = &c
	}
	if r.Voice != nil {
		c := *r.Voice
		r.Voice = &c
	}
	return r
}
