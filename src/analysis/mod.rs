//! Pure analyses of the inventory: each turns plain data into report rows.
//!
//! Nothing here does I/O or sees an SDK type.

pub mod assignments;
pub mod duplicates;
pub mod errors;
pub mod instances;
pub mod summary;

pub use assignments::{AssignmentRow, assignment_rows};
pub use duplicates::{DuplicateRow, duplicated_users, normalize_email};
pub use errors::sort_errors;
pub use instances::{InstanceRow, instance_rows};
pub use summary::{Counts, count};
