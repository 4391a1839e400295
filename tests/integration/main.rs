//! Integration tests: the real binary and the real handler against the local AWS
//! emulator (tests/emulator) over HTTP on 127.0.0.1, checking the reports' content.

mod blog;
mod call_counts;
mod concurrency;
mod credentials;
mod emulator;
mod events;
mod faults;
mod hostile;
mod lambda;
mod messy;
mod regions;
