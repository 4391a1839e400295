//! Report content details checked end to end (filled in by the hostile-input tests).
