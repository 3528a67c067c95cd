//! THE image grid: every sample sheet, interpolation strip and reconstruction pair goes through
//! here, so they all look alike (1 px gutters, dark background, nearest-neighbour upscaling).

/// A batch of images in [0, 1], channel-major.
#[derive(Clone, Debug)]
pub struct Images {
    pub data: Vec<f32>,
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
}

impl Images {
    pub fn new(data: Vec<f32>, n: usize, c: usize, h: usize, w: usize) -> Self {
        assert_eq!(
            data.len(),
            n * c * h * w,
            "image buffer does not match [n, c, h, w]"
        );
        Self { data, n, c, h, w }
    }

    fn pixel(&self, i: usize, y: usize, x: usize) -> [u8; 3] {
        let base = i * self.c * self.h * self.w;
        let at = |ch: usize| {
            let v = self.data[base + ch * self.h * self.w + y * self.w + x];
            (v.clamp(0.0, 1.0) * 255.0).round() as u8
        };
        if self.c == 3 {
            [at(0), at(1), at(2)]
        } else {
            let g = at(0);
            [g, g, g]
        }
    }

    /// Concatenate batches of the same image size.
    pub fn concat(parts: &[Images]) -> Images {
        let first = &parts[0];
        let data = parts.iter().flat_map(|p| p.data.iter().copied()).collect();
        Images::new(
            data,
            parts.iter().map(|p| p.n).sum(),
            first.c,
            first.h,
            first.w,
        )
    }
}

/// Layout of a grid picture.
#[derive(Clone, Copy, Debug)]
pub struct Grid {
    pub cols: usize,
    /// Each pixel becomes `scale x scale` pixels.
    pub scale: u32,
    pub gutter: u32,
}

impl Default for Grid {
    fn default() -> Self {
        Self {
            cols: 8,
            scale: 2,
            gutter: 2,
        }
    }
}

const GUTTER_RGB: [u8; 3] = [40, 40, 48];

impl Grid {
    pub fn render(&self, images: &Images) -> image::RgbImage {
        let cols = self.cols.min(images.n).max(1);
        let rows = images.n.div_ceil(cols).max(1);
        let (s, g) = (self.scale, self.gutter);
        let cell_w = images.w as u32 * s;
        let cell_h = images.h as u32 * s;
        let width = cols as u32 * (cell_w + g) + g;
        let height = rows as u32 * (cell_h + g) + g;
        let mut img = image::RgbImage::from_pixel(width, height, image::Rgb(GUTTER_RGB));
        for i in 0..images.n {
            let (r, c) = ((i / cols) as u32, (i % cols) as u32);
            let (x0, y0) = (g + c * (cell_w + g), g + r * (cell_h + g));
            for y in 0..images.h {
                for x in 0..images.w {
                    let px = image::Rgb(images.pixel(i, y, x));
                    for dy in 0..s {
                        for dx in 0..s {
                            img.put_pixel(x0 + x as u32 * s + dx, y0 + y as u32 * s + dy, px);
                        }
                    }
                }
            }
        }
        img
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_each_image_in_its_cell() {
        // Two 1x1 images: black and white, in a 2-column grid without scaling.
        let imgs = Images::new(vec![0.0, 1.0], 2, 1, 1, 1);
        let png = Grid {
            cols: 2,
            scale: 1,
            gutter: 1,
        }
        .render(&imgs);
        assert_eq!((png.width(), png.height()), (5, 3));
        assert_eq!(png.get_pixel(1, 1).0, [0, 0, 0]);
        assert_eq!(png.get_pixel(3, 1).0, [255, 255, 255]);
        assert_eq!(png.get_pixel(0, 0).0, GUTTER_RGB);
    }
}
