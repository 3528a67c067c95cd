/// Channels, height, width of one example. Points are `[d, 1, 1]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shape {
    pub c: usize,
    pub h: usize,
    pub w: usize,
}

impl Shape {
    pub fn dim(&self) -> usize {
        self.c * self.h * self.w
    }
}

/// Images hold pixels in [0, 1]; points hold raw coordinates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Images,
    Points,
}

/// A whole split in memory: `x` is `[n, c*h*w]` row-major.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub name: String,
    pub kind: Kind,
    pub shape: Shape,
    pub x: Vec<f32>,
    pub y: Option<Vec<u32>>,
    pub classes: Vec<String>,
    /// True when every pixel is exactly 0 or 1 (already binary data).
    pub binary: bool,
    /// What the loader passed over as not data, each with the reason (hidden folders such as
    /// `.ipynb_checkpoints/`, archive metadata, folders without images), for the user to see.
    pub skipped: Vec<String>,
    /// What the loader decided for the user and how to change it (a CSV's first row read as a
    /// header, colour dropped to grey, a pandas index column left out), for the user to see.
    pub notes: Vec<String>,
    /// Tabular points exactly as given, in f64 (`x` holds them as f32, or their z-scores after
    /// [`Dataset::standardize`]).
    pub raw: Option<Vec<f64>>,
    /// Set when `x` holds z-scores of `raw`.
    pub standardization: Option<crate::Standardization>,
    /// Names of the columns of tabular points, from a CSV header (empty when unnamed).
    pub columns: Vec<String>,
    /// The inputs of an image-to-image task (`edges:SPEC`, ...): row i is the input whose
    /// answer is row i of `x`.
    pub input: Option<crate::Inputs>,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.x.len() / self.shape.dim()
    }

    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    pub fn example(&self, i: usize) -> &[f32] {
        let d = self.shape.dim();
        &self.x[i * d..(i + 1) * d]
    }

    /// Gather rows `idx` into one `[idx.len(), d]` buffer.
    pub fn gather(&self, idx: &[usize]) -> Vec<f32> {
        let d = self.shape.dim();
        let mut out = Vec::with_capacity(idx.len() * d);
        for &i in idx {
            out.extend_from_slice(self.example(i));
        }
        out
    }

    pub fn labels(&self, idx: &[usize]) -> Option<Vec<u32>> {
        self.y.as_ref().map(|y| idx.iter().map(|&i| y[i]).collect())
    }

    /// Keep the first `n` examples (for quick evaluation).
    pub fn truncate(&mut self, n: usize) {
        if n < self.len() {
            self.x.truncate(n * self.shape.dim());
            if let Some(y) = &mut self.y {
                y.truncate(n);
            }
            if let Some(input) = &mut self.input {
                input.x.truncate(n * input.shape.dim());
            }
        }
    }

    /// Replace `x` by the z-scores of the values as given, computed in f64 (so a column near
    /// 1.7e9 with a spread of 50 keeps its 24 bits of spread). Errors when the data has no raw
    /// values (only tabular points have them) or `s` has another number of columns.
    pub fn standardize(&mut self, s: &crate::Standardization) -> Result<(), crate::DataError> {
        let Some(raw) = &self.raw else {
            return Err(crate::DataError::Invalid(format!(
                "{} is not tabular point data; data.standardize applies to csv:FILE and npy:FILE only (set data.standardize = \"auto\")",
                self.name
            )));
        };
        if s.mean.len() != self.shape.dim() {
            return Err(crate::DataError::Invalid(format!(
                "{} has {} columns, but the run was standardised on {}; evaluate on data with the run's columns",
                self.name,
                self.shape.dim(),
                s.mean.len()
            )));
        }
        self.x = s.apply(raw);
        self.binary = false;
        self.standardization = Some(s.clone());
        Ok(())
    }

    pub(crate) fn mark_binary(mut self) -> Self {
        self.binary = self.x.iter().all(|&v| v == 0.0 || v == 1.0);
        self
    }
}
