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
        }
    }

    pub(crate) fn mark_binary(mut self) -> Self {
        self.binary = self.x.iter().all(|&v| v == 0.0 || v == 1.0);
        self
    }
}
