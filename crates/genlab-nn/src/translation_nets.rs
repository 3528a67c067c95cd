//! Networks of image-to-image translation (Isola et al. 2017, "Image-to-Image Translation with
//! Conditional Adversarial Networks", appendix 6.1), scaled to small images:
//!
//! - [`UNet`]: an encoder-decoder with skips between mirrored layers. Encoder `C64-C128-C256-
//!   C512-C512...` (4x4 convolutions of stride 2, LeakyReLU 0.2, batch norm but on the first
//!   and the innermost layer), decoder the mirror (4x4 transposed convolutions of stride 2, ReLU,
//!   batch norm, dropout 0.5 on the first `dropout_layers`), each decoder layer fed the previous
//!   one concatenated with its mirror's output; tanh or sigmoid out (the caller applies it).
//!   The paper's 256-pixel U-Net has 8 levels, down to 1x1; here the image is padded with
//!   zeros to the next power of two and halved down to 2x2 (28 -> 32: 4 levels, 16, 8, 4, 2),
//!   and the output cropped back.
//! - [`PatchGan`]: a discriminator that classifies each patch of (input, output) as real or
//!   fake: `C64` (stride 2, no norm) then `layers - 1` more stride-2 and one stride-1 layer,
//!   each doubling the channels (at most 8x), batch norm, LeakyReLU 0.2, then a stride-1 4x4
//!   convolution to one logit per patch. `layers = 3` is the paper's 70x70 PatchGAN; on 28-32
//!   pixel images `layers = 1` gives its 16x16 PatchGAN (receptive field 16 pixels).
//!
//! - [`EncoderDecoder`]: a DCGAN encoder (stride-2 4x4 convolutions, batch norm, LeakyReLU) to
//!   a bottleneck vector and a DCGAN decoder back to an image, no skips: the context encoder's
//!   network (Pathak et al. 2016, §3.1) and DiscoGAN's generator (Kim et al. 2017, §3).
//!
//! An input smaller than the output by an integer factor (super-resolution) is first scaled up
//! by pixel repetition (nearest neighbour), so both nets see input and output at one size.

use crate::conv2d::{Build, Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::module::Module;
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use genlab_data::Shape;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

const SLOPE: f64 = 0.2;

fn down(i: usize, o: usize, stride: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([i, o], [4, 4])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .build(device)
}

fn up(i: usize, o: usize, device: &Device) -> ConvTranspose2d {
    ConvTranspose2dConfig::new([i, o], [4, 4])
        .with_stride([2, 2])
        .with_padding([1, 1])
        .build(device)
}

fn norm(c: usize, device: &Device) -> BatchNorm {
    BatchNormConfig::new(c).init(device)
}

fn bn(layer: &BatchNorm, x: Tensor<4>) -> Tensor<4> {
    genlab_kernels::fused_bn::batch_norm(layer, x)
}

/// Channels of level `i` for base width `w`: `w * min(2^i, 8)` (64, 128, 256, 512, 512, ...).
fn channels(w: usize, i: usize) -> usize {
    w * (1usize << i.min(3))
}

/// Levels of the [`UNet`] for outputs of shape `s`: halvings of the padded side down to 2x2.
pub fn unet_depth(s: Shape) -> usize {
    s.h.max(s.w).next_power_of_two().max(4).trailing_zeros() as usize - 1
}

/// Inputs `[b, c*h*w]` of `from` repeated up to `to`'s height and width, `[b, c, H, W]`.
pub fn upsample_nearest(x: Tensor<2>, from: Shape, to: Shape) -> Tensor<4> {
    let b = x.dims()[0];
    let x = x.reshape([b, from.c, from.h, from.w]);
    if (from.h, from.w) == (to.h, to.w) {
        return x;
    }
    let (fh, fw) = (to.h / from.h, to.w / from.w);
    x.reshape([b, from.c, from.h, 1, from.w, 1])
        .expand([b, from.c, from.h, fh, from.w, fw])
        .reshape([b, from.c, to.h, to.w])
}

/// The U-Net generator. See the module docs.
#[derive(Module, Debug)]
pub struct UNet {
    downs: Vec<Conv2d>,
    /// After `downs[1..depth - 1]` (not the outermost, not the innermost).
    down_norms: Vec<BatchNorm>,
    /// `ups[0]` is the innermost; `ups[depth - 1]` maps to the output channels.
    ups: Vec<ConvTranspose2d>,
    /// After every up-convolution but the last.
    up_norms: Vec<BatchNorm>,
    #[module(skip)]
    input: [usize; 3],
    #[module(skip)]
    output: [usize; 3],
    /// Side of the padded square the levels halve.
    #[module(skip)]
    side: usize,
    #[module(skip)]
    dropout_layers: usize,
}

impl UNet {
    /// From `input` to `output` images (the output at least as large, by an integer factor),
    /// base width `width` (64 in the paper).
    pub fn new(
        input: Shape,
        output: Shape,
        width: usize,
        dropout_layers: usize,
        device: &Device,
    ) -> Self {
        let side = output.h.max(output.w).next_power_of_two().max(4);
        let depth = unet_depth(output);
        let ch: Vec<usize> = (0..depth).map(|i| channels(width, i)).collect();
        let downs = (0..depth)
            .map(|i| down(if i == 0 { input.c } else { ch[i - 1] }, ch[i], 2, device))
            .collect();
        let down_norms = (1..depth.saturating_sub(1))
            .map(|i| norm(ch[i], device))
            .collect();
        // Decoder layer j outputs the channels of encoder level depth - 2 - j (the output's at
        // the last) and takes the previous decoder output joined with its mirror (not at j = 0).
        let ups = (0..depth)
            .map(|j| {
                let level = depth - 1 - j;
                let inp = if j == 0 { ch[level] } else { 2 * ch[level] };
                let out = if level == 0 { output.c } else { ch[level - 1] };
                up(inp, out, device)
            })
            .collect();
        let up_norms = (0..depth - 1)
            .map(|j| norm(ch[depth - 2 - j], device))
            .collect();
        Self {
            downs,
            down_norms,
            ups,
            up_norms,
            input: [input.c, input.h, input.w],
            output: [output.c, output.h, output.w],
            side,
            dropout_layers,
        }
    }

    /// `[b, c_in*h_in*w_in] -> [b, c*h*w]` before the output activation. `dropout` draws the
    /// masks of the dropout layers (the paper's only noise, kept at test time); None turns them
    /// off.
    pub fn forward(&self, x: Tensor<2>, mut dropout: Option<&mut ChaCha8Rng>) -> Tensor<2> {
        let b = x.dims()[0];
        let [ci, hi, wi] = self.input;
        let [c, h, w] = self.output;
        let device = x.device();
        let x = upsample_nearest(
            x,
            Shape {
                c: ci,
                h: hi,
                w: wi,
            },
            Shape { c, h, w },
        );
        let s = self.side;
        let (top, left) = ((s - h) / 2, (s - w) / 2);
        let x = Tensor::<4>::zeros([b, ci, s, s], &device)
            .slice_assign([0..b, 0..ci, top..top + h, left..left + w], x);
        let depth = self.downs.len();
        let mut skips = Vec::with_capacity(depth);
        let mut e = self.downs[0].forward(x); // [b, 64, s/2, s/2]
        for i in 1..depth {
            skips.push(e.clone());
            e = self.downs[i].forward(genlab_kernels::fused::leaky_relu(e, SLOPE));
            if i < depth - 1 {
                e = bn(&self.down_norms[i - 1], e);
            }
        }
        let mut u = e; // innermost, [b, ch, 2, 2]
        for (j, layer) in self.ups.iter().enumerate() {
            if j > 0 {
                u = Tensor::cat(vec![u, skips[depth - 1 - j].clone()], 1);
            }
            u = layer.forward(relu(u));
            if j < depth - 1 {
                u = bn(&self.up_norms[j], u);
                if j < self.dropout_layers {
                    if let Some(rng) = dropout.as_deref_mut() {
                        u = drop_half(u, rng);
                    }
                }
            }
        }
        u.slice([0..b, 0..c, top..top + h, left..left + w])
            .reshape([b, c * h * w])
    }
}

/// Dropout with p = 0.5 (kept units scaled by 2), its mask drawn from `rng`.
fn drop_half(x: Tensor<4>, rng: &mut ChaCha8Rng) -> Tensor<4> {
    let dims = x.dims();
    let n = dims.iter().product();
    let mask: Vec<f32> = (0..n)
        .map(|_| if rng.random::<bool>() { 2.0 } else { 0.0 })
        .collect();
    let mask = Tensor::<4>::from_data(burn::tensor::TensorData::new(mask, dims), &x.device());
    x * mask
}

/// The PatchGAN discriminator. See the module docs.
#[derive(Module, Debug)]
pub struct PatchGan {
    convs: Vec<Conv2d>,
    /// After `convs[1..layers + 1]`.
    norms: Vec<BatchNorm>,
    #[module(skip)]
    input: [usize; 3],
    #[module(skip)]
    output: [usize; 3],
}

impl PatchGan {
    /// Judges `(input, output)` pairs of these shapes; `layers` >= 1, `width` 64 in the paper.
    pub fn new(input: Shape, output: Shape, width: usize, layers: usize, device: &Device) -> Self {
        let mut convs = vec![down(input.c + output.c, width, 2, device)];
        let mut norms = Vec::new();
        for n in 1..=layers {
            let stride = if n < layers { 2 } else { 1 };
            convs.push(down(
                channels(width, n - 1),
                channels(width, n),
                stride,
                device,
            ));
            norms.push(norm(channels(width, n), device));
        }
        convs.push(down(channels(width, layers), 1, 1, device));
        Self {
            convs,
            norms,
            input: [input.c, input.h, input.w],
            output: [output.c, output.h, output.w],
        }
    }

    /// `input [b, c_in*h_in*w_in]` (None for an unconditional D), `output [b, c*h*w]` -> one
    /// logit per patch `[b, patches]`.
    pub fn forward(&self, input: Option<Tensor<2>>, output: Tensor<2>) -> Tensor<2> {
        let b = output.dims()[0];
        let [ci, hi, wi] = self.input;
        let [c, h, w] = self.output;
        let to = Shape { c, h, w };
        let output = output.reshape([b, c, h, w]);
        let from = Shape {
            c: ci,
            h: hi,
            w: wi,
        };
        let x = match input {
            Some(input) => Tensor::cat(vec![upsample_nearest(input, from, to), output], 1),
            None => output,
        };
        let last = self.convs.len() - 1;
        let mut x = x;
        for (i, conv) in self.convs.iter().enumerate() {
            x = conv.forward(x);
            if i == last {
                break;
            }
            if i > 0 {
                x = bn(&self.norms[i - 1], x);
            }
            x = genlab_kernels::fused::leaky_relu(x, SLOPE);
        }
        x.flatten(1, 3)
    }
}

/// Instance normalisation without affine parameters (Ulyanov et al. 2016; CycleGAN's
/// default), eps 1e-5: each channel of each image to zero mean and unit variance over its
/// pixels, in training and when translating alike.
pub fn instance_norm(x: Tensor<4>) -> Tensor<4> {
    let [b, c, h, w] = x.dims();
    let flat = x.reshape([b, c, h * w]);
    let centered = flat.clone() - flat.mean_dim(2);
    let var = centered.clone().powi_scalar(2).mean_dim(2);
    (centered / var.add_scalar(1e-5).sqrt()).reshape([b, c, h, w])
}

/// Reflection padding by `p` pixels on every side (PyTorch's `ReflectionPad2d`: the edge pixel
/// is not repeated), `p` < the image's side.
pub fn reflect_pad(x: Tensor<4>, p: usize) -> Tensor<4> {
    let [b, c, h, w] = x.dims();
    let top = x.clone().slice([0..b, 0..c, 1..p + 1, 0..w]).flip([2]);
    let bottom = x
        .clone()
        .slice([0..b, 0..c, h - p - 1..h - 1, 0..w])
        .flip([2]);
    let x = Tensor::cat(vec![top, x, bottom], 2);
    let h = h + 2 * p;
    let left = x.clone().slice([0..b, 0..c, 0..h, 1..p + 1]).flip([3]);
    let right = x
        .clone()
        .slice([0..b, 0..c, 0..h, w - p - 1..w - 1])
        .flip([3]);
    Tensor::cat(vec![left, x, right], 3)
}

fn conv(i: usize, o: usize, k: usize, stride: usize, pad: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([i, o], [k, k])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
        .build(device)
}

/// The ResNet generator of CycleGAN (Zhu et al. 2017, appendix 7.2, after Johnson et al. 2016):
/// `c7s1-w, d2w, d4w, R4w x blocks, u2w, uw, c7s1-c` (w = 64 in the paper): a 7x7 convolution
/// on the reflection-padded image, two stride-2 3x3 convolutions down, residual blocks of two
/// reflection-padded 3x3 convolutions, two stride-2 3x3 transposed convolutions up (output
/// padding 1), a 7x7 convolution to the output channels; instance norm and ReLU after every
/// layer but the last (tanh or sigmoid, the caller's). Images whose side divides by 4.
#[derive(Module, Debug)]
pub struct ResnetGenerator {
    first: Conv2d,
    downs: Vec<Conv2d>,
    /// Two convolutions per residual block.
    blocks: Vec<Conv2d>,
    ups: Vec<ConvTranspose2d>,
    last: Conv2d,
    #[module(skip)]
    input: [usize; 3],
    #[module(skip)]
    output: [usize; 3],
}

impl ResnetGenerator {
    pub fn new(input: Shape, output: Shape, width: usize, blocks: usize, device: &Device) -> Self {
        let w4 = 4 * width;
        Self {
            first: conv(input.c, width, 7, 1, 0, device),
            downs: vec![
                conv(width, 2 * width, 3, 2, 1, device),
                conv(2 * width, w4, 3, 2, 1, device),
            ],
            blocks: (0..2 * blocks)
                .map(|_| conv(w4, w4, 3, 1, 0, device))
                .collect(),
            ups: [(w4, 2 * width), (2 * width, width)]
                .iter()
                .map(|&(i, o)| {
                    ConvTranspose2dConfig::new([i, o], [3, 3])
                        .with_stride([2, 2])
                        .with_padding([1, 1])
                        .with_padding_out([1, 1])
                        .build(device)
                })
                .collect(),
            last: conv(width, output.c, 7, 1, 0, device),
            input: [input.c, input.h, input.w],
            output: [output.c, output.h, output.w],
        }
    }

    /// `[b, c_in*h*w] -> [b, c*h*w]` before the output activation.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let b = x.dims()[0];
        let [ci, h, w] = self.input;
        let norm_relu = |x: Tensor<4>| relu(instance_norm(x));
        let mut x = norm_relu(self.first.forward(reflect_pad(x.reshape([b, ci, h, w]), 3)));
        for d in &self.downs {
            x = norm_relu(d.forward(x));
        }
        for pair in self.blocks.chunks(2) {
            let y = norm_relu(pair[0].forward(reflect_pad(x.clone(), 1)));
            x = x + instance_norm(pair[1].forward(reflect_pad(y, 1)));
        }
        for u in &self.ups {
            x = norm_relu(u.forward(x));
        }
        let [c, h, w] = self.output;
        self.last.forward(reflect_pad(x, 3)).reshape([b, c * h * w])
    }
}

/// Sub-pixel convolution's rearrangement (Shi et al. 2016, PyTorch's `pixel_shuffle`):
/// `[b, c·r², h, w] -> [b, c, h·r, w·r]`.
pub fn pixel_shuffle(x: Tensor<4>, r: usize) -> Tensor<4> {
    let [b, crr, h, w] = x.dims();
    let c = crr / (r * r);
    x.reshape([b, c, r, r, h, w])
        .permute([0, 1, 4, 2, 5, 3])
        .reshape([b, c, h * r, w * r])
}

/// SRResNet (Ledig et al. 2017, figure 4): a 9x9 convolution and PReLU, `blocks` residual
/// blocks (3x3 convolution, batch norm, PReLU, 3x3 convolution, batch norm, plus the block's
/// input), a 3x3 convolution and batch norm plus the first layer's output, then per factor of 2
/// a 3x3 convolution to 4x the channels, a pixel shuffle and PReLU, and a 9x9 convolution to
/// the image's channels (the caller applies tanh or sigmoid). Width 64 and 16 blocks in the
/// paper.
#[derive(Module, Debug)]
pub struct SrResNet {
    first: Conv2d,
    first_act: burn::nn::PRelu,
    /// Two convolutions per residual block.
    blocks: Vec<Conv2d>,
    block_norms: Vec<BatchNorm>,
    block_acts: Vec<burn::nn::PRelu>,
    mid: Conv2d,
    mid_norm: BatchNorm,
    ups: Vec<Conv2d>,
    up_acts: Vec<burn::nn::PRelu>,
    last: Conv2d,
    #[module(skip)]
    input: [usize; 3],
    #[module(skip)]
    output: [usize; 3],
}

impl SrResNet {
    /// From `input` up to `output`, a factor of 2 or 4 on each side.
    pub fn new(input: Shape, output: Shape, width: usize, blocks: usize, device: &Device) -> Self {
        let prelu = |c: usize| {
            burn::nn::PReluConfig::new()
                .with_num_parameters(c)
                .init(device)
        };
        let stages = (output.h / input.h).trailing_zeros() as usize;
        Self {
            first: conv(input.c, width, 9, 1, 4, device),
            first_act: prelu(width),
            blocks: (0..2 * blocks)
                .map(|_| conv(width, width, 3, 1, 1, device))
                .collect(),
            block_norms: (0..2 * blocks).map(|_| norm(width, device)).collect(),
            block_acts: (0..blocks).map(|_| prelu(width)).collect(),
            mid: conv(width, width, 3, 1, 1, device),
            mid_norm: norm(width, device),
            ups: (0..stages)
                .map(|_| conv(width, 4 * width, 3, 1, 1, device))
                .collect(),
            up_acts: (0..stages).map(|_| prelu(width)).collect(),
            last: conv(width, output.c, 9, 1, 4, device),
            input: [input.c, input.h, input.w],
            output: [output.c, output.h, output.w],
        }
    }

    /// `[b, c*h_in*w_in] -> [b, c*h*w]` before the output activation.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let b = x.dims()[0];
        let [ci, hi, wi] = self.input;
        let head = self
            .first_act
            .forward(self.first.forward(x.reshape([b, ci, hi, wi])));
        let mut x = head.clone();
        for (k, act) in self.block_acts.iter().enumerate() {
            let y = act.forward(bn(
                &self.block_norms[2 * k],
                self.blocks[2 * k].forward(x.clone()),
            ));
            x = x + bn(
                &self.block_norms[2 * k + 1],
                self.blocks[2 * k + 1].forward(y),
            );
        }
        let mut x = head + bn(&self.mid_norm, self.mid.forward(x));
        for (up, act) in self.ups.iter().zip(&self.up_acts) {
            x = act.forward(pixel_shuffle(up.forward(x), 2));
        }
        let [c, h, w] = self.output;
        self.last.forward(x).reshape([b, c * h * w])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn unet_maps_28_pixel_inputs_to_28_pixel_outputs_and_dropout_is_seeded() {
        let device = Device::default();
        let s = Shape { c: 1, h: 28, w: 28 };
        let rgb = Shape { c: 3, ..s };
        let net = UNet::new(s, rgb, 4, 2, &device);
        assert_eq!(
            net.downs.len(),
            4,
            "28 is padded to 32: four levels, down to 2x2"
        );
        let x = Tensor::<2>::ones([2, 784], &device);
        let y = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            net.forward(x.clone(), Some(&mut rng))
        };
        assert_eq!(y(1).dims(), [2, 3 * 784]);
        assert!(
            y(1).equal(y(1)).all().into_scalar::<bool>(),
            "same seed, same output"
        );
        assert!(
            !y(1).equal(y(2)).all().into_scalar::<bool>(),
            "dropout changes it"
        );
        // A 7x7 input (downscale(4)) reaches the same output size.
        let small = UNet::new(Shape { c: 1, h: 7, w: 7 }, s, 4, 0, &device);
        assert_eq!(
            small.forward(Tensor::ones([2, 49], &device), None).dims(),
            [2, 784]
        );
    }

    #[test]
    fn patchgan_gives_one_logit_per_patch() {
        let device = Device::default();
        let s = Shape { c: 1, h: 28, w: 28 };
        let d = PatchGan::new(s, s, 4, 1, &device);
        let out = d.forward(
            Some(Tensor::ones([3, 784], &device)),
            Tensor::ones([3, 784], &device),
        );
        // 28 -> 14 (stride 2) -> 13 (stride 1) -> 12 (stride 1): 12x12 patches.
        assert_eq!(out.dims(), [3, 144]);
    }

    #[test]
    fn resnet_generator_keeps_the_size_and_reflection_mirrors_without_the_edge() {
        let device = Device::default();
        let s = Shape { c: 1, h: 28, w: 28 };
        let g = ResnetGenerator::new(s, Shape { c: 3, ..s }, 4, 2, &device);
        assert_eq!(
            g.forward(Tensor::ones([2, 784], &device)).dims(),
            [2, 3 * 784]
        );
        let x = Tensor::<4>::from_data(
            burn::tensor::TensorData::new(
                (0..9).map(|v| v as f32).collect::<Vec<_>>(),
                [1, 1, 3, 3],
            ),
            &device,
        );
        let v: Vec<f32> = reflect_pad(x, 1).into_data().try_to_vec::<f32>().unwrap();
        // Row 0 of the padded image mirrors row 1 of the image: 4 3 4 5 4.
        assert_eq!(&v[..5], &[4.0, 3.0, 4.0, 5.0, 4.0]);
        assert_eq!(&v[5..10], &[1.0, 0.0, 1.0, 2.0, 1.0]);
        let n: Vec<f32> = instance_norm(Tensor::<4>::from_data(
            burn::tensor::TensorData::new(vec![1.0f32, 3.0, 5.0, 7.0], [1, 1, 2, 2]),
            &device,
        ))
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
        let sd = 5.0f32.sqrt();
        assert!(
            (n[0] + 3.0 / sd).abs() < 1e-4 && (n[3] - 3.0 / sd).abs() < 1e-4,
            "{n:?}"
        );
    }

    #[test]
    fn pixel_shuffle_interleaves_channels_into_pixels_and_srresnet_doubles_the_side() {
        let device = Device::default();
        // Four 1x1 channels become one 2x2 image, in PyTorch's order.
        let x = Tensor::<4>::from_data(
            burn::tensor::TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0], [1, 4, 1, 1]),
            &device,
        );
        let v: Vec<f32> = pixel_shuffle(x, 2).into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(v, vec![1.0, 2.0, 3.0, 4.0]);
        let s = Shape { c: 1, h: 28, w: 28 };
        for (small, f) in [(14, 2), (7, 4)] {
            let net = SrResNet::new(
                Shape {
                    c: 1,
                    h: small,
                    w: small,
                },
                s,
                4,
                2,
                &device,
            );
            assert_eq!(net.ups.len(), if f == 2 { 1 } else { 2 });
            let y = net.forward(Tensor::ones([2, small * small], &device));
            assert_eq!(y.dims(), [2, 784]);
        }
    }

    #[test]
    fn nearest_upsampling_repeats_pixels() {
        let device = Device::default();
        let x = Tensor::<2>::from_data(
            burn::tensor::TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0], [1, 4]),
            &device,
        );
        let y = upsample_nearest(x, Shape { c: 1, h: 2, w: 2 }, Shape { c: 1, h: 4, w: 4 });
        let v: Vec<f32> = y.into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(&v[..8], &[1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 2.0]);
        assert_eq!(&v[8..], &[3.0, 3.0, 4.0, 4.0, 3.0, 3.0, 4.0, 4.0]);
    }
}

/// The encoder-decoder. See the module docs.
#[derive(Module, Debug)]
pub struct EncoderDecoder {
    encoder: crate::gan_nets::Discriminator,
    decoder: crate::gan_nets::Generator,
}

impl EncoderDecoder {
    /// From `input` to `output` images (both with an even side of at least 8, as
    /// [`crate::gan_nets::dcgan_stages`] checks), base width `width`, a bottleneck of
    /// `bottleneck` numbers.
    pub fn new(
        input: Shape,
        output: Shape,
        width: usize,
        bottleneck: usize,
        device: &Device,
    ) -> Self {
        use crate::gan_nets::{Body, DiscSpec, Discriminator, GenSpec, Generator};
        use crate::mlp::Activation;
        Self {
            encoder: Discriminator::new(&DiscSpec::dcgan(input, width, bottleneck), device),
            decoder: Generator::new(
                &GenSpec {
                    body: Body::Dcgan,
                    input: bottleneck,
                    shape: output,
                    hidden: Vec::new(),
                    width,
                    activation: Activation::Relu,
                    batch_norm: true,
                },
                device,
            ),
        }
    }

    /// `[b, c_in*h_in*w_in] -> [b, c*h*w]` before the output activation.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let code = genlab_kernels::fused::leaky_relu(self.encoder.forward(x, None), SLOPE);
        self.decoder.forward(code)
    }
}
