//! Tabular data: `csv:FILE` (numeric columns, optional header, optional `label` column) and
//! `npy:FILE` (a 2-D numeric NumPy array). Both load as points `[n, d]`.
//!
//! NOTE: the NumPy reader is written here rather than taken from a crate: it is forty lines for
//! the one layout genlab reads (a 2-D little-endian array), and the npy crates pull in a Python
//! literal parser and big-integer support for the general case.

use crate::{DataError, Dataset, Header, Kind, Shape};
use std::collections::BTreeSet;
use std::path::Path;

fn invalid(path: &Path, problem: String) -> DataError {
    DataError::BadTable {
        path: path.to_path_buf(),
        problem,
    }
}

/// Points from a CSV file: numeric columns, an optional header, an optional `label` column
/// (any text; sorted into classes).
///
/// The header rule (`data.header = "auto"`): the first row names the columns when one of its
/// cells is not a number, or when its cells are exactly the integers 0, 1, ..., d-1 (the names
/// pandas gives the columns of an array: `DataFrame(x).to_csv(index=False)`). What auto decided
/// is noted with how to override it. A column with no name (`""`, or pandas' `Unnamed: 0`)
/// holding integers is a row index (`to_csv()` with its default index, R's `write.csv`): it is
/// left out with a note; any other unnamed column is an error. No row is ever dropped: a row
/// that is not numbers is an error naming its line.
pub fn load_csv(path: &Path, spec: &str, header: Header) -> Result<Dataset, DataError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(std::fs::File::open(path).map_err(|e| DataError::io(path, e))?);
    let mut rows: Vec<csv::StringRecord> = Vec::new();
    for r in reader.records() {
        rows.push(r.map_err(|e| invalid(path, e.to_string()))?);
    }
    let first = rows
        .first()
        .ok_or_else(|| invalid(path, "the file is empty".into()))?;
    let mut notes = Vec::new();
    let has_header = match header {
        Header::True => true,
        Header::False => false,
        Header::Auto => {
            let (is_header, why) = header_rule(first);
            notes.push(format!(
                "{}: first row `{}` read as {why}; if that is wrong, set data.header = {}",
                path.display(),
                first.iter().map(str::trim).collect::<Vec<_>>().join(","),
                if is_header { "false" } else { "true" }
            ));
            is_header
        }
    };
    let names: Vec<String> = if has_header {
        first.iter().map(|c| c.trim().to_string()).collect()
    } else {
        (0..first.len())
            .map(|i| format!("column {}", i + 1))
            .collect()
    };
    let body = &rows[has_header as usize..];
    if body.is_empty() {
        return Err(invalid(path, "no data rows after the header".into()));
    }
    for (i, row) in body.iter().enumerate() {
        if row.len() != names.len() {
            return Err(invalid(
                path,
                format!(
                    "line {} has {} cells, the first row has {}; every row needs the same columns",
                    i + 1 + has_header as usize,
                    row.len(),
                    names.len()
                ),
            ));
        }
    }
    let mut roles = vec![Role::Feature; names.len()];
    if let Some(j) = names.iter().position(|h| h == "label") {
        roles[j] = Role::Label;
    }
    if has_header {
        for (j, name) in names.iter().enumerate() {
            if !(name.is_empty() || name.starts_with("Unnamed:")) || roles[j] == Role::Label {
                continue;
            }
            let integers = body.iter().all(|r| r[j].trim().parse::<i64>().is_ok());
            if !integers {
                return Err(invalid(
                    path,
                    format!(
                        "column {} has no name (`{name}`) and holds values that are not a row index; name it in the header to use it as a feature, or remove it",
                        j + 1
                    ),
                ));
            }
            roles[j] = Role::Index;
            notes.push(format!(
                "{}: column {} (`{name}`) has no name and holds integers: a row index (pandas' to_csv() without index=False, R's write.csv), left out; name it in the header to use it as a feature",
                path.display(),
                j + 1
            ));
        }
    }
    let d = roles.iter().filter(|r| **r == Role::Feature).count();
    if d == 0 {
        return Err(invalid(path, "no numeric columns besides `label`".into()));
    }
    let mut x = Vec::with_capacity(body.len() * d);
    let mut labels = Vec::new();
    for (i, row) in body.iter().enumerate() {
        for (j, cell) in row.iter().enumerate() {
            // Cells are trimmed here rather than by the reader, which rebuilds every record to
            // trim it (a fifth of the parse time).
            let cell = cell.trim();
            match roles[j] {
                Role::Feature => match cell.parse::<f64>() {
                    Ok(v) if v.is_finite() => x.push(v),
                    _ => {
                        let line = i + 1 + has_header as usize;
                        return Err(not_a_number(path, line, &names[j], cell, has_header));
                    }
                },
                Role::Label => labels.push(cell.to_string()),
                Role::Index => {}
            }
        }
    }
    let (y, classes) = if roles.contains(&Role::Label) {
        let classes: Vec<String> = labels
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let y = labels
            .iter()
            .map(|l| classes.binary_search(l).unwrap() as u32)
            .collect();
        (Some(y), classes)
    } else {
        (None, Vec::new())
    };
    let mut data = points(spec, x, d, y, classes);
    data.notes = notes;
    if has_header {
        let kept = names
            .iter()
            .zip(&roles)
            .filter(|(_, r)| **r == Role::Feature);
        data.columns = kept.map(|(n, _)| n.clone()).collect();
    }
    Ok(data)
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Feature,
    Label,
    Index,
}

/// `data.header = "auto"`: is `first` a header, and why (for the note).
fn header_rule(first: &csv::StringRecord) -> (bool, &'static str) {
    if first.iter().any(|c| c.trim().parse::<f64>().is_err()) {
        (true, "a header (some cells are not numbers)")
    } else if first
        .iter()
        .enumerate()
        .all(|(j, c)| c.trim().parse::<i64>() == Ok(j as i64))
    {
        (
            true,
            "a header (the integers 0..d-1 that pandas writes as the names of unnamed columns)",
        )
    } else {
        (false, "data (every cell is a number)")
    }
}

/// The error for a cell that is not a finite number: its line, column and the fix.
#[cold]
fn not_a_number(path: &Path, line: usize, column: &str, cell: &str, header: bool) -> DataError {
    if cell.parse::<f64>().is_ok() {
        return invalid(
            path,
            format!(
                "line {line}, column `{column}` is {cell}; drop or impute missing values first"
            ),
        );
    }
    let fix = if line == 1 && !header {
        "it looks like a header: set data.header = \"true\" (or \"auto\")"
    } else {
        "name a label column `label`, or remove text columns"
    };
    invalid(
        path,
        format!("line {line}, column `{column}`: `{cell}` is not a number ({fix})"),
    )
}

/// Points from a 2-D `.npy` array of floats or integers (C or Fortran order).
pub fn load_npy(path: &Path, spec: &str) -> Result<Dataset, DataError> {
    let (x, _, d) = read_npy(path)?;
    Ok(points(spec, x, d, None, Vec::new()))
}

/// The bytes of a 2-D little-endian float64 `.npy` file (format version 1.0) holding
/// `values` as `[n, d]`; what [`read_npy`] and `numpy.load` read back exactly.
pub fn npy_bytes(values: &[f64], n: usize, d: usize) -> Vec<u8> {
    assert_eq!(values.len(), n * d, "values must be [n, d]");
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({n}, {d}), }}");
    // Magic, version and header length take 10 bytes; the data starts 64-byte aligned.
    let pad = 64 - (10 + header.len() + 1) % 64;
    header.push_str(&" ".repeat(pad % 64));
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend(values.iter().flat_map(|v| v.to_le_bytes()));
    out
}

/// The rows of a 2-D `.npy` array as f64 `(values [n, d], n, d)`, exactly as stored (the
/// benchmarks compare with float64 scikit-learn results).
pub fn read_npy(path: &Path) -> Result<(Vec<f64>, usize, usize), DataError> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(invalid(path, "not a NumPy .npy file (bad magic)".into()));
    }
    let (hlen, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize,
            12,
        ),
        v => return Err(invalid(path, format!("unsupported .npy version {v}"))),
    };
    let header = bytes
        .get(start..start + hlen)
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or_else(|| invalid(path, "truncated header".into()))?;
    let field = |key: &str| -> Option<&str> {
        let at = header.find(&format!("'{key}'"))? + key.len() + 2;
        Some(header[at..].trim_start_matches([':', ' ']))
    };
    let descr = field("descr")
        .and_then(|s| s.strip_prefix('\'')?.split('\'').next())
        .ok_or_else(|| invalid(path, "header has no descr".into()))?;
    let fortran = field("fortran_order").is_some_and(|s| s.starts_with("True"));
    let shape: Vec<usize> = field("shape")
        .and_then(|s| s.strip_prefix('(')?.split(')').next())
        .ok_or_else(|| invalid(path, "header has no shape".into()))?
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|_| invalid(path, format!("bad shape entry `{s}`")))
        })
        .collect::<Result<_, _>>()?;
    let [n, d] = shape[..] else {
        return Err(invalid(
            path,
            format!(
                "array has shape {shape:?}; genlab reads 2-D arrays (n examples x d features): reshape it, e.g. x.reshape(len(x), -1)"
            ),
        ));
    };
    let data = &bytes[start + hlen..];
    let width = match descr {
        "<f8" | "<i8" | "<u8" => 8,
        "<f4" | "<i4" | "<u4" => 4,
        "|u1" | "<u1" | "|i1" => 1,
        other => {
            return Err(invalid(
                path,
                format!(
                    "dtype `{other}` is not supported; save as float32 or float64 (little-endian)"
                ),
            ))
        }
    };
    if data.len() < n * d * width {
        return Err(invalid(
            path,
            format!(
                "file is truncated: {} bytes of data for shape ({n}, {d})",
                data.len()
            ),
        ));
    }
    let value = |i: usize| -> f64 {
        let b = &data[i * width..(i + 1) * width];
        match descr {
            "<f8" => f64::from_le_bytes(b.try_into().unwrap()),
            "<i8" => i64::from_le_bytes(b.try_into().unwrap()) as f64,
            "<u8" => u64::from_le_bytes(b.try_into().unwrap()) as f64,
            "<f4" => f32::from_le_bytes(b.try_into().unwrap()) as f64,
            "<i4" => i32::from_le_bytes(b.try_into().unwrap()) as f64,
            "<u4" => u32::from_le_bytes(b.try_into().unwrap()) as f64,
            "|i1" => b[0] as i8 as f64,
            _ => b[0] as f64,
        }
    };
    let mut x = Vec::with_capacity(n * d);
    for r in 0..n {
        for c in 0..d {
            let v = value(if fortran { c * n + r } else { r * d + c });
            if !v.is_finite() {
                return Err(invalid(
                    path,
                    format!("row {r}, column {c} is {v}; drop or impute missing values first"),
                ));
            }
            x.push(v);
        }
    }
    Ok((x, n, d))
}

/// Points `[n, d]` as given (kept in f64 as `raw`) and as f32.
fn points(
    spec: &str,
    raw: Vec<f64>,
    d: usize,
    y: Option<Vec<u32>>,
    classes: Vec<String>,
) -> Dataset {
    Dataset {
        name: spec.to_string(),
        kind: Kind::Points,
        shape: Shape { c: d, h: 1, w: 1 },
        x: raw.iter().map(|&v| v as f32).collect(),
        y,
        classes,
        binary: false,
        skipped: Vec::new(),
        notes: Vec::new(),
        raw: Some(raw),
        standardization: None,
        columns: Vec::new(),
        input: None,
    }
    .mark_binary()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, body: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        (dir, p)
    }

    #[test]
    fn npy_written_reads_back_exactly() {
        let v = [1.5, -2.25e300, 3.0, f64::MIN_POSITIVE, 0.1, 7.0];
        let bytes = npy_bytes(&v, 3, 2);
        assert_eq!((bytes.len() - v.len() * 8) % 64, 0, "data 64-byte aligned");
        let (_d, p) = write("f.npy", &bytes);
        assert_eq!(read_npy(&p).unwrap(), (v.to_vec(), 3, 2));
    }

    #[test]
    fn csv_with_header_and_labels() {
        let (_d, p) = write("a.csv", b"x,y,label\n1,2,cat\n3,4.5,dog\n-1,0,cat\n");
        let ds = load_csv(&p, "csv:a.csv", Header::Auto).unwrap();
        assert_eq!(ds.shape.dim(), 2);
        assert_eq!(ds.x, vec![1.0, 2.0, 3.0, 4.5, -1.0, 0.0]);
        assert_eq!(ds.y, Some(vec![0, 1, 0]));
        assert_eq!(ds.classes, vec!["cat", "dog"]);
        assert_eq!(
            ds.columns,
            vec!["x", "y"],
            "the label column is not a feature"
        );
    }

    #[test]
    fn cells_are_trimmed() {
        let (_d, p) = write("a.csv", b" x , y ,label\n 1 , 2,cat \n3,4.5 , dog\n");
        let ds = load_csv(&p, "csv:a.csv", Header::Auto).unwrap();
        assert_eq!(ds.x, vec![1.0, 2.0, 3.0, 4.5]);
        assert_eq!(ds.classes, vec!["cat", "dog"]);
        let (_d, p) = write("a.csv", b" 0 , 1\n 0.5 , 2\n");
        assert_eq!(load_csv(&p, "s", Header::Auto).unwrap().len(), 1);
    }

    #[test]
    fn csv_without_header() {
        let (_d, p) = write("a.csv", b"1,2,3\n4,5,6\n");
        let ds = load_csv(&p, "csv:a.csv", Header::Auto).unwrap();
        assert_eq!(ds.len(), 2);
        assert_eq!(ds.shape.dim(), 3);
        assert!(ds.y.is_none());
    }

    #[test]
    fn csv_errors_name_line_and_column() {
        let (_d, p) = write("a.csv", b"a,b\n1,2\n3\n");
        let e = load_csv(&p, "s", Header::Auto).err().unwrap().to_string();
        assert!(e.contains("line 3 has 1 cells"), "{e}");
        let (_d, p) = write("a.csv", b"a,b\n1,2\n3,oops\n");
        let e = load_csv(&p, "s", Header::Auto).err().unwrap().to_string();
        assert!(
            e.contains("line 3, column `b`: `oops` is not a number"),
            "{e}"
        );
        let (_d, p) = write("a.csv", b"a,b\n1,NaN\n");
        let e = load_csv(&p, "s", Header::Auto).err().unwrap().to_string();
        assert!(e.contains("column `b` is NaN"), "{e}");
    }

    fn npy(descr: &str, shape: &str, fortran: bool, data: &[u8]) -> Vec<u8> {
        let mut h = format!(
            "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}",
            if fortran { "True" } else { "False" }
        );
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(' ');
        }
        h.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend((h.len() as u16).to_le_bytes());
        out.extend(h.as_bytes());
        out.extend(data);
        out
    }

    #[test]
    fn npy_float64_c_and_fortran_order() {
        let vals: Vec<u8> = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let (_d, p) = write("a.npy", &npy("<f8", "(2, 3)", false, &vals));
        assert_eq!(
            load_npy(&p, "s").unwrap().x,
            vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
        );
        let (_d, p) = write("a.npy", &npy("<f8", "(2, 3)", true, &vals));
        assert_eq!(
            load_npy(&p, "s").unwrap().x,
            vec![1.0, 3.0, 5.0, 2.0, 4.0, 6.0]
        );
    }

    #[test]
    fn npy_errors() {
        let (_d, p) = write("a.npy", &npy("<f4", "(4,)", false, &[0; 16]));
        let e = load_npy(&p, "s").err().unwrap().to_string();
        assert!(e.contains("reads 2-D arrays"), "{e}");
        let (_d, p) = write("a.npy", &npy("<f4", "(4, 2)", false, &[0; 16]));
        let e = load_npy(&p, "s").err().unwrap().to_string();
        assert!(e.contains("truncated"), "{e}");
        let nan: Vec<u8> = [1.0f32, f32::NAN]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let (_d, p) = write("a.npy", &npy("<f4", "(1, 2)", false, &nan));
        let e = load_npy(&p, "s").err().unwrap().to_string();
        assert!(e.contains("row 0, column 1 is NaN"), "{e}");
    }
}
