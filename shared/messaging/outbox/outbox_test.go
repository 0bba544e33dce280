package outbox_test

import (
	"sync"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/messaging"
	"github.com/wardhq/ward/shared/messaging/messagingtest"
	"github.com/wardhq/ward/shared/messaging/outbox"
)

const otherTenant = "01890a5d-ac96-774b-bcce-b302099a8058"

func open(t *testing.T, o outbox.Options) *outbox.Outbox {
	t.Helper()
	box, err := outbox.New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return box
}

func TestContract(t *testing.T) {
	env := func(t *testing.T) messagingtest.PhoneEnv {
		box := open(t, outbox.Options{})
		return messagingtest.PhoneEnv{
			SMS:      box,
			Voice:    box,
			Accepted: func(*testing.T) int { return box.Len() },
		}
	}
	t.Run("email", func(t *testing.T) {
		messagingtest.RunEmail(t, func(t *testing.T) messagingtest.EmailEnv {
			box := open(t, outbox.Options{})
			return messagingtest.EmailEnv{Sender: box, Accepted: func(*testing.T) int { return box.Len() }}
		})
	})
	t.Run("sms", func(t *testing.T) { messagingtest.RunSMS(t, env) })
	t.Run("voice", func(t *testing.T) { messagingtest.RunVoice(t, env) })
}

func TestListIsPerTenantAndNewestFirst(t *testing.T) {
	ctx := t.Context()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	box := open(t, outbox.Options{Now: func() time.Time { now = now.Add(time.Second); return now }})

	email := messagingtest.ValidEmail()
	sms := messagingtest.ValidSMS()
	voice := messagingtest.ValidVoice()
	other := messagingtest.ValidEmail()
	other.TenantID = otherTenant
	if err := box.Send(ctx, email); err != nil {
		t.Fatal(err)
	}
	if err := box.Send(ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := box.SendSMS(ctx, sms); err != nil {
		t.Fatal(err)
	}
	if err := box.Call(ctx, voice); err != nil {
		t.Fatal(err)
	}

	got := box.List(messagingtest.TenantID)
	if len(got) != 3 {
		t.Fatalf("List = %d records, want 3", len(got))
	}
	wantChannels := []outbox.Channel{outbox.ChannelVoice, outbox.ChannelSMS, outbox.ChannelEmail}
	wantSeq := []uint64{4, 3, 1}
	for i, r := range got {
		if r.Channel != wantChannels[i] || r.Seq != wantSeq[i] || r.TenantID != messagingtest.TenantID {
			t.Errorf("record %d = %s #%d of %s, want %s #%d", i, r.Channel, r.Seq, r.TenantID,
				wantChannels[i], wantSeq[i])
		}
	}
	if got[0].Voice == nil || got[0].Voice.Text != voice.Text || got[0].Kind != voice.Kind {
		t.Errorf("voice record = %+v", got[0])
	}
	if got[1].SMS == nil || got[1].SMS.Body != sms.Body {
		t.Errorf("SMS record = %+v", got[1])
	}
	if e := got[2].Email; e == nil || e.Subject != email.Subject || e.To[0] != email.To[0] {
		t.Errorf("email record = %+v", got[2])
	}
	if !got[0].At.After(got[1].At) || !got[1].At.After(got[2].At) {
		t.Errorf("records are not stamped in order: %v, %v, %v", got[0].At, got[1].At, got[2].At)
	}

	if others := box.List(otherTenant); len(others) != 1 || others[0].Seq != 2 {
		t.Errorf("List(other tenant) = %+v, want its one email", others)
	}
	if none := box.List("01890a5d-ac96-774b-bcce-b302099a8059"); len(none) != 0 {
		t.Errorf("List(unknown tenant) = %+v, want nothing", none)
	}
}

func TestRecordsAreCopies(t *testing.T) {
	ctx := t.Context()
	box := open(t, outbox.Options{})
	m := messagingtest.ValidEmail()
	if err := box.Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	m.To[0] = "changed@example.com"
	m.Headers["X-Ward-Test"] = "changed"

	first := box.List(messagingtest.TenantID)
	first[0].Email.Subject = "changed"
	first[0].Email.To[0] = "changed-again@example.com"

	r := box.List(messagingtest.TenantID)[0].Email
	if r.To[0] != "ada@example.com" || r.Headers["X-Ward-Test"] != "1" ||
		r.Subject != "Confirm your address" {
		t.Errorf("the stored email changed with its caller's copies: %+v", r)
	}
}

func TestBoundedDropsOldest(t *testing.T) {
	ctx := t.Context()
	box := open(t, outbox.Options{Capacity: 3})
	for range 5 {
		if err := box.SendSMS(ctx, messagingtest.ValidSMS()); err != nil {
			t.Fatal(err)
		}
	}
	got := box.List(messagingtest.TenantID)
	if box.Len() != 3 || len(got) != 3 {
		t.Fatalf("Len = %d, List = %d records; want 3 each", box.Len(), len(got))
	}
	for i, want := range []uint64{5, 4, 3} {
		if got[i].Seq != want {
			t.Errorf("record %d is #%d, want #%d", i, got[i].Seq, want)
		}
	}
}

func TestNegativeCapacityIsInvalid(t *testing.T) {
	_, err := outbox.New(outbox.Options{Capacity: -1})
	messagingtest.WantInvalid(t, err, "Capacity")
}

func TestConcurrentSends(t *testing.T) {
	ctx := t.Context()
	box := open(t, outbox.Options{Capacity: 64})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if err := box.Send(ctx, messagingtest.ValidEmail()); err != nil {
					t.Error(err)
				}
				box.List(messagingtest.TenantID)
			}
		})
	}
	wg.Wait()
	got := box.List(messagingtest.TenantID)
	if len(got) != 64 || got[0].Seq != 400 || got[63].Seq != 337 {
		t.Errorf("after 400 sends: %d records from #%d to #%d, want 64 from #400 to #337",
			len(got), got[0].Seq, got[len(got)-1].Seq)
	}
}

var _ messaging.PhoneSender = (*outbox.Outbox)(nil)
