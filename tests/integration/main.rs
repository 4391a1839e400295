//! Integration tests: the real binary and the real handler against the local AWS
//! emulator (tests/emulator) over HTTP on 127.0.0.1, checking the reports' content.

mod account_access;
mod blog;
mod call_counts;
mod changes;
mod concurrency;
mod credentials;
mod deadline_listing;
mod emulator;
mod events;
mod faults;
mod hostile;
mod lambda;
mod messy;
mod page;
mod partial_reads;
mod person;
mod regions;
mod resume;
mod uploads;
