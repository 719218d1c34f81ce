package web

import "time"

// jobs keeps the console's running and finished imports.
type jobs struct{ now func() time.Time }

func newJobs(now func() time.Time) *jobs { return &jobs{now: now} }
