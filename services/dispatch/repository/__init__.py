"""All SQL of dispatch, by what it reads and writes: `whistles`, `assignments` (and the queue reads),
`claims` (leases), `extensions`, `escalations`, `replies` (Idempotency-Key answers) and `signals`
(the NOTIFY that wakes long-polling claims and the escalation job)."""
