//! Pure analyses of the inventory: each turns plain data into report rows.
//!
//! Nothing here does I/O or sees an SDK type.

pub mod account_assignments;
pub mod assignments;
pub mod changes;
pub mod disabled_access;
pub mod duplicates;
pub mod errors;
pub mod instances;
pub mod person_access;
pub mod store_index;
pub mod summary;

pub use account_assignments::{AccountAssignmentRow, AccountAssignmentTable, Grantee, account_assignment_row_count};
pub use assignments::{AssignmentRow, AssignmentRows, assignment_rows};
pub use changes::{ChangeRow, ReportDiff, Scope, ScopeError, diff_report};
pub use disabled_access::{DisabledAccess, disabled_access};
pub use duplicates::{DuplicateRow, duplicated_users, normalize_email};
pub use errors::sort_errors;
pub use instances::{InstanceRow, instance_rows};
pub use summary::{Counts, count};
