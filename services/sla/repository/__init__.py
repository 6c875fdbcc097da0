"""All SQL of SLA: `clocks` (whistles, clocks and the timer's due rows), `measures` (what each case
counted for, summed per unit), `evaluations`, `periods` (closed periods and published scores),
`maintenance` (emptying the derived tables for a rebuild; filling synthetic clocks for the
benchmark)."""
