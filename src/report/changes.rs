//! `changes`: what differs from the previous run, a row per added or removed report row
//! and per changed column (rows from [`crate::analysis::changes`]).

use std::io::Write;

use crate::analysis::ChangeRow;

use super::{EncodeError, ReportWriter};

pub const CHANGES: &str = "changes";

pub const HEADER: [&str; 6] = ["Report", "Change", "Key", "Field", "Before", "After"];

/// The `changes` report being written: every row goes to the file; the first `keep` are
/// also kept for the run's page, the rest only counted.
pub struct ChangesWriter<W: Write> {
    writer: ReportWriter<W>,
    keep: usize,
    kept: Vec<ChangeRow>,
    not_kept: usize,
}

/// A finished `changes` report: the destination, the first rows, how many more.
pub struct WrittenChanges<W> {
    pub out: W,
    pub first: Vec<ChangeRow>,
    pub not_kept: usize,
}

impl<W: Write> ChangesWriter<W> {
    /// Starts the report on `out` with its header.
    pub fn new(out: W, keep: usize) -> Result<Self, EncodeError> {
        Ok(ChangesWriter {
            writer: ReportWriter::new(CHANGES, &HEADER, out)?,
            keep,
            kept: Vec::new(),
            not_kept: 0,
        })
    }

    pub fn write(&mut self, row: ChangeRow) -> Result<(), EncodeError> {
        self.writer.row([
            row.report.as_str(),
            row.change.as_str(),
            row.key.as_str(),
            row.field.as_str(),
            row.before.as_str(),
            row.after.as_str(),
        ])?;
        if self.kept.len() < self.keep {
            self.kept.push(row);
        } else {
            self.not_kept += 1;
        }
        Ok(())
    }

    pub fn finish(self) -> Result<WrittenChanges<W>, EncodeError> {
        Ok(WrittenChanges {
            out: self.writer.finish()?,
            first: self.kept,
            not_kept: self.not_kept,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_written_neutralised_and_the_first_kept() {
        let mut w = ChangesWriter::new(Vec::new(), 1).unwrap();
        let row = |change: &str, before: &str| ChangeRow {
            report: "idc_instances".into(),
            change: change.into(),
            key: "111122223333 | arn:aws:sso:::instance/ssoins-1".into(),
            field: "InstanceName".into(),
            before: before.into(),
            after: "b, \"c\"".into(),
        };
        w.write(row("CHANGED", "=cmd")).unwrap();
        w.write(row("CHANGED", "'=cmd")).unwrap();
        let done = w.finish().unwrap();
        assert_eq!(done.first, vec![row("CHANGED", "=cmd")]);
        assert_eq!(done.not_kept, 1);
        assert_eq!(
            String::from_utf8(done.out).unwrap(),
            "Report,Change,Key,Field,Before,After\r\n\
             idc_instances,CHANGED,111122223333 | arn:aws:sso:::instance/ssoins-1,InstanceName,'=cmd,\"b, \"\"c\"\"\"\r\n\
             idc_instances,CHANGED,111122223333 | arn:aws:sso:::instance/ssoins-1,InstanceName,'=cmd,\"b, \"\"c\"\"\"\r\n"
        );
    }
}
