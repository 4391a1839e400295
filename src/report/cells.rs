//! Neutralising spreadsheet formulas in CSV cells.
//!
//! Names and emails come from external identity providers. A cell that a spreadsheet
//! would read as a formula is prefixed with a single quote, the convention spreadsheets
//! display as text: one that starts with a tab or a carriage return, or whose first
//! non-blank character (after spaces, line feeds or other white space, which
//! spreadsheets skip) is `=`, `+`, `-`, `@` or their full-width forms `＝＋－＠`.

use std::borrow::Cow;

/// Characters that start a formula, ASCII and full-width.
const FORMULA_STARTS: [char; 8] = ['=', '+', '-', '@', '\u{ff1d}', '\u{ff0b}', '\u{ff0d}', '\u{ff20}'];

/// Whether a spreadsheet could read the cell as a formula.
fn could_be_formula(cell: &str) -> bool {
    if cell.starts_with(['\t', '\r']) {
        return true;
    }
    cell.trim_start().starts_with(FORMULA_STARTS)
}

/// Returns the cell unchanged, or prefixed with `'` when it could start a formula.
pub fn neutralize(cell: &str) -> Cow<'_, str> {
    if could_be_formula(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
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
    fn formula_starts_after_blanks_are_prefixed() {
        for cell in [
            " =x",
            "   +1",
            "\n=cmd|' /C calc'!A0",
            " \n -2",
            "\u{3000}@SUM(A1)",
            "\u{a0}=1",
        ] {
            assert_eq!(neutralize(cell), format!("'{cell}"), "{cell:?}");
        }
    }

    #[test]
    fn full_width_formula_starts_are_prefixed() {
        for cell in ["\u{ff1d}1+1", "\u{ff0b}1", "\u{ff0d}2", "\u{ff20}SUM(A1)", " \u{ff1d}x"] {
            assert_eq!(neutralize(cell), format!("'{cell}"), "{cell:?}");
        }
    }

    #[test]
    fn ordinary_cells_are_untouched() {
        for cell in [
            "",
            "   ",
            "alice@example.com",
            "O'Brien",
            "a=b",
            " a=b",
            "x \u{ff1d} y",
            "名前",
            "'quoted",
        ] {
            assert!(matches!(neutralize(cell), Cow::Borrowed(c) if c == cell), "{cell:?}");
        }
    }
}
