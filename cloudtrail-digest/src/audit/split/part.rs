//! A part: what one unit read, as JSON lines (the unit, its chains, its log folders'
//! listings, and an end line that says the part is whole), written and read back.

use std::io::{BufRead, Write};
use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::super::placement::FolderListing;
use super::super::{Group, Reads};
use super::{plan_error, Unit};
use crate::error::Error;

/// What one unit read: written by [`read_unit`](super::read_unit), taken by
/// [`merge`](super::merge).
pub struct Part {
    pub(super) unit: Unit,
    pub(super) reads: Reads,
}

/// One line of a part file, as read.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Line {
    Unit(Box<Unit>),
    Group(Box<Group>),
    Listing(FolderListing),
    /// The unit's reads are complete: a part cut short lacks this.
    End {
        unit: usize,
        groups: usize,
        listings: usize,
    },
}

impl Part {
    /// The unit it is the part of.
    pub fn unit(&self) -> &Unit {
        &self.unit
    }

    /// Writes the part as JSON lines: the unit, its chains, its listings, and an end
    /// line that says the part is whole.
    pub fn write_to(&self, out: &mut dyn Write) -> std::io::Result<()> {
        fn line(out: &mut dyn Write, l: &LineRef<'_>) -> std::io::Result<()> {
            serde_json::to_writer(&mut *out, l)?;
            out.write_all(b"\n")
        }
        line(out, &LineRef::Unit(&self.unit))?;
        for g in &self.reads.groups {
            line(out, &LineRef::Group(g))?;
        }
        for l in &self.reads.listings {
            line(out, &LineRef::Listing(l))?;
        }
        line(
            out,
            &LineRef::End {
                unit: self.unit.unit,
                groups: self.reads.groups.len(),
                listings: self.reads.listings.len(),
            },
        )
    }

    /// Reads every part in one file (a shard's file holds several), `name` saying which
    /// file in messages.
    pub fn read_all(input: &mut dyn BufRead, name: &str) -> Result<Vec<Part>, Error> {
        let mut parts = Vec::new();
        Part::read_each(input, name, &mut |part, _| {
            parts.push(part);
            Ok(())
        })?;
        Ok(parts)
    }

    /// Reads the parts in one file one at a time, handing each to `each` with the bytes
    /// of the file it was read from (from its unit line to its end line, inclusive), so
    /// that only one part is held at a time and it can be read again alone.
    pub(super) fn read_each(
        input: &mut dyn BufRead,
        name: &str,
        each: &mut dyn FnMut(Part, Range<u64>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut current: Option<(Part, u64)> = None;
        let mut text = String::new();
        let mut number = 0usize;
        let mut offset = 0u64;
        loop {
            text.clear();
            let n = input
                .read_line(&mut text)
                .map_err(|e| plan_error(format!("{name}: cannot be read ({e})")))?;
            if n == 0 {
                break;
            }
            let at = offset;
            offset += n as u64;
            number += 1;
            if text.trim().is_empty() {
                continue;
            }
            let line: Line = serde_json::from_str(&text)
                .map_err(|e| plan_error(format!("{name}, line {number}: not a line of a part ({e})")))?;
            match (line, current.as_mut()) {
                (Line::Unit(unit), None) => {
                    let reads = Reads {
                        groups: Vec::new(),
                        listings: Vec::new(),
                    };
                    current = Some((Part { unit: *unit, reads }, at))
                }
                (Line::Group(g), Some((p, _))) => p.reads.groups.push(*g),
                (Line::Listing(l), Some((p, _))) => p.reads.listings.push(l),
                (
                    Line::End {
                        unit,
                        groups,
                        listings,
                    },
                    Some((p, _)),
                ) if unit == p.unit.unit
                    && groups == p.reads.groups.len()
                    && listings == p.reads.listings.len() =>
                {
                    let (part, start) = current.take().expect("a part is open");
                    each(part, start..offset)?;
                }
                (Line::Unit(_), Some((p, _))) | (Line::End { .. }, Some((p, _))) => {
                    return Err(plan_error(format!(
                        "{name}, line {number}: the part of unit {} is cut short",
                        p.unit.title()
                    )))
                }
                (_, None) => {
                    return Err(plan_error(format!(
                        "{name}, line {number}: no unit line opens this part"
                    )))
                }
            }
        }
        if let Some((p, _)) = current {
            return Err(plan_error(format!(
                "{name}: the part of unit {} is cut short (no end line)",
                p.unit.title()
            )));
        }
        Ok(())
    }
}

/// One line of a part file, borrowed from the part to write it ([`Line`] reads it).
#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum LineRef<'a> {
    Unit(&'a Unit),
    Group(&'a Group),
    Listing(&'a FolderListing),
    End {
        unit: usize,
        groups: usize,
        listings: usize,
    },
}
