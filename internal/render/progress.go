package render

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Progress reports the stages of long work on a stream (stderr). Live
// progress rewrites one line, for a terminal; otherwise each stage change and
// at most one update a second are printed on lines of their own.
type Progress struct {
	mu        sync.Mutex
	w         io.Writer
	live      bool
	lastStage string
	lastLine  time.Time
	dirty     bool
}

// NewProgress reports to w; live selects one rewritten line.
func NewProgress(w io.Writer, live bool) *Progress { return &Progress{w: w, live: live} }

// Update reports that stage has reached done of total (total 0 when
// unknown), with a short message. It is safe for concurrent use.
func (p *Progress) Update(stage, message string, done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	line := stage
	if message != "" {
		line += ": " + message
	}
	if total > 0 {
		line += fmt.Sprintf(" (%d/%d)", done, total)
	} else if done > 0 {
		line += fmt.Sprintf(" (%d)", done)
	}
	if p.live {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.dirty = true
		return
	}
	now := time.Now()
	if stage == p.lastStage && now.Sub(p.lastLine) < time.Second && (total == 0 || done < total) {
		return
	}
	p.lastStage, p.lastLine = stage, now
	fmt.Fprintln(p.w, line)
}

// Done ends live progress, clearing its line.
func (p *Progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live && p.dirty {
		fmt.Fprint(p.w, "\r\033[K")
		p.dirty = false
	}
}
