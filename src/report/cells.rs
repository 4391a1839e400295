//! Neutralising spreadsheet formulas in CSV cells.
//!
//! Names and emails come from external identity providers. A cell that a spreadsheet
//! would read as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage
//! return) is prefixed with a single quote, the convention spreadsheets display as text.

use std::borrow::Cow;

/// Returns the cell unchanged, or prefixed with `'` when it could start a formula.
pub fn neutralize(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_prefixed() {
        for cell in ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "=HYPERLINK(\"http://e\")"] {
            assert_eq!(neutralize(cell), format!("'{cell}"));
        }
    }

    #[test]
    fn ordinary_cells_are_untouched() {
        for cell in ["", "alice@example.com", "O'Brien", "a=b", " =x", "名前", "'quoted"] {
            assert!(matches!(neutralize(cell), Cow::Borrowed(c) if c == cell));
        }
    }
}
