//! Exploring a trained model from its run's page: what it can do, codes from its prior, pictures
//! decoded from codes the page chose (a point on the latent map, slider positions, steps of an
//! interpolation, InfoGAN's codes), samples of a class, and completion of a test image under a
//! mask drawn on a canvas. All model work runs on the [`Workshop`](crate::workshop::Workshop)
//! thread; pictures travel as PNG data URIs of the model's own size (the page scales them up).

use crate::guard::refuse;
use crate::workshop::Loaded;
use crate::{paths, Studio};
use anyhow::{anyhow, bail, Result};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use genlab_core::rng::{rng_for, Stream};
use genlab_core::tensor::{matrix, to_vec};
use genlab_core::{Batch, Draw};
use genlab_data::{Kind, Split};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

/// Who translates, for the error of a model that does not.
const TRANSLATORS: &str =
    "the translation families do: pix2pix, cyclegan, discogan, srresnet, srgan, context-encoder";

/// Pictures one request may decode.
pub const MOST_PICTURES: usize = 64;

/// `GET /api/explore?name=RUN`: what the run's model can be asked from the page.
pub async fn about(
    State(studio): State<Arc<Studio>>,
    Query(q): Query<crate::runs::RunQuery>,
) -> Response {
    on_model(&studio, &q.name, describe).await
}

fn describe(m: &mut Loaded) -> Result<Value> {
    let s = m.info.shape;
    let model = m.model.as_ref();
    let latent = model
        .as_latent()
        .map(|l| json!({ "dim": l.latent_dim(), "gaussian": l.gaussian_prior() }));
    let classes = model.as_sample_given().map(|g| {
        (0..g.classes())
            .map(|i| {
                m.meta
                    .classes
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| format!("class {i}"))
            })
            .collect::<Vec<_>>()
    });
    let codes = model.as_codes().map(|c| {
        json!({ "noise": c.noise_dim(), "categories": c.categories(), "continuous": c.continuous() })
    });
    // A model that learns both directions answers the way back (a blank image will do).
    let translate = model.as_translate().map(|t| {
        let i = t.input_shape();
        let blank = matrix(vec![0.0; s.dim()], 1, s.dim(), &m.device);
        let two_way = t
            .translate_back(blank, &mut rng_for(0, 0, Stream::Eval))
            .is_some();
        json!({ "input": [i.c, i.h, i.w], "two_way": two_way })
    });
    Ok(json!({
        "family": m.config.family,
        "translate": translate,
        "step": m.step,
        "images": m.info.kind == Kind::Images,
        "shape": [s.c, s.h, s.w],
        "latent": latent,
        "classes": classes,
        "codes": codes,
        "complete": model.as_complete().is_some() && m.info.kind == Kind::Images,
        "binary": model.binary(),
    }))
}

/// What `POST /api/explore/prior` asks for: `n` codes of the model's prior from `seed`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorAsk {
    run: String,
    #[serde(default)]
    seed: u64,
    n: usize,
}

/// `POST /api/explore/prior`: `{z: [[..], ..]}`, the codes `genlab sample --seed` decodes, and
/// their pictures.
pub async fn prior(State(studio): State<Arc<Studio>>, Json(ask): Json<PriorAsk>) -> Response {
    // A bad count is refused before the model is loaded (which could evict a cached one).
    if let Err(e) = count(ask.n) {
        return refuse(StatusCode::BAD_REQUEST, format!("{e:#}"));
    }
    on_model(&studio, &ask.run, move |m| {
        let l = latent(m)?;
        let mut rng = rng_for(ask.seed, 0, Stream::Eval);
        let z = l.prior_sample(ask.n, &mut rng, &m.device)?;
        let dim = l.latent_dim();
        let x = l.decode(z.clone())?;
        let rows: Vec<Vec<f32>> = to_vec(z).chunks(dim).map(<[f32]>::to_vec).collect();
        Ok(json!({ "z": rows, "pictures": pictures(m, x)? }))
    })
    .await
}

/// What `POST /api/explore/decode` asks for: codes to decode (`z`), or for InfoGAN noise,
/// a category and continuous codes; or `n` samples of class `label` from `seed`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecodeAsk {
    run: String,
    #[serde(default)]
    z: Vec<Vec<f32>>,
    label: Option<u32>,
    #[serde(default)]
    seed: u64,
    #[serde(default)]
    n: usize,
    category: Option<u32>,
    #[serde(default)]
    continuous: Vec<Vec<f32>>,
}

/// `POST /api/explore/decode`: `{pictures: [data URI, ..]}` (images) or `{points: [..]}`.
pub async fn decode(State(studio): State<Arc<Studio>>, Json(ask): Json<DecodeAsk>) -> Response {
    on_model(&studio, &ask.run, move |m| {
        let x = if let Some(label) = ask.label {
            count(ask.n)?;
            let g = m
                .model
                .as_sample_given()
                .ok_or_else(|| anyhow!("{} does not sample given a class", m.config.family))?;
            genlab_core::model::check_labels(&[label], g.classes())?;
            let mut rng = rng_for(ask.seed, 0, Stream::Eval);
            g.sample_given(&vec![label; ask.n], &mut rng, &m.device)?
        } else if ask.category.is_some() || !ask.continuous.is_empty() {
            let c = m.model.as_codes().ok_or_else(|| {
                anyhow!("{} has no structured codes (InfoGAN has)", m.config.family)
            })?;
            let cat = match (ask.category, c.categories()) {
                (None, 0) => 0,
                (Some(_), 0) => bail!("category: this model has no categorical code"),
                (None, k) => bail!("category: one of 0..{} is needed", k - 1),
                (Some(cat), k) if cat as usize >= k => bail!(
                    "category {cat} is out of range: this model has categories 0..{}",
                    k - 1
                ),
                (Some(cat), _) => cat,
            };
            let z = rows(&ask.z, c.noise_dim(), "z", &m.device)?;
            let n = z.dims()[0];
            let cont = rows(&ask.continuous, c.continuous(), "continuous", &m.device)?;
            if cont.dims()[0] != n {
                bail!(
                    "continuous: one row per row of z ({n}), found {}",
                    cont.dims()[0]
                );
            }
            c.decode_codes(z, &vec![cat; n], cont)?
        } else {
            let l = latent(m)?;
            let z = rows(&ask.z, l.latent_dim(), "z", &m.device)?;
            l.decode(z)?
        };
        if m.info.kind == Kind::Images {
            Ok(json!({ "pictures": pictures(m, x)? }))
        } else {
            Ok(json!({ "points": to_vec(x) }))
        }
    })
    .await
}

/// What `POST /api/explore/complete` asks for: test image `index`, and `hide`, one 0/1 per
/// pixel (`h * w`, row-major), 1 where the model must fill in.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteAsk {
    run: String,
    index: usize,
    hide: Vec<u8>,
    #[serde(default)]
    seed: u64,
}

/// `POST /api/explore/complete`: `{original, masked, completed}` data URIs.
pub async fn complete(State(studio): State<Arc<Studio>>, Json(ask): Json<CompleteAsk>) -> Response {
    on_model(&studio, &ask.run, move |m| {
        let c = m.model.as_complete().ok_or_else(|| {
            anyhow!(
                "{} cannot complete images (`genlab models` lists which can)",
                m.config.family
            )
        })?;
        let s = m.info.shape;
        if ask.hide.len() != s.h * s.w || ask.hide.iter().any(|&v| v > 1) {
            bail!(
                "hide: {} values of 0 or 1 (one per pixel of {}x{}), found {}",
                s.h * s.w,
                s.h,
                s.w,
                ask.hide.len()
            );
        }
        if m.held_out.is_none() {
            // Loaded once per model: a brush stroke asks again and again.
            let standardization = m.info.standardization.clone();
            let load = |split| m.config.data.load_as_seen(split, standardization.as_ref());
            m.held_out = Some(match load(Split::Test) {
                Ok(d) => ("test", d),
                Err(_) => ("training", load(Split::Train)?),
            });
        }
        let (split, data) = m.held_out.as_ref().expect("loaded above");
        if ask.index >= data.len() {
            bail!(
                "index {} is out of range: the {split} split has {} images",
                ask.index,
                data.len()
            );
        }
        let pre = m.info.preprocess.for_evaluation();
        let batch = Batch::gather(
            data,
            &[ask.index],
            &pre,
            &mut rng_for(0, 0, Stream::Eval),
            &m.device,
        );
        // The mask covers every channel of a pixel.
        let known: Vec<f32> = (0..s.c)
            .flat_map(|_| ask.hide.iter().map(|&h| 1.0 - h as f32))
            .collect();
        let known = matrix(known, 1, s.dim(), &m.device);
        let mut rng = rng_for(ask.seed, 0, Stream::Eval);
        let draw = Draw::for_model(m.model.as_ref(), false);
        let done = draw.complete(c, batch.x.clone(), known.clone(), &mut rng)?;
        // The hidden part shown mid-grey.
        let grey = m.info.preprocess.from_unit(0.5);
        let masked = batch.x.clone() * known.clone() + known.neg().add_scalar(1.0).mul_scalar(grey);
        let [original, masked, completed]: [String; 3] =
            pictures(m, burn::tensor::Tensor::cat(vec![batch.x, masked, done], 0))?
                .try_into()
                .map_err(|_| anyhow!("three pictures"))?;
        Ok(json!({ "original": original, "masked": masked, "completed": completed }))
    })
    .await
}

/// `f` on the model of the run `name` (a path under the studio's root), on the workshop's
/// thread: 404 for a name outside the root, 400 with the message for `f`'s error.
async fn on_model(
    studio: &Studio,
    name: &str,
    f: impl FnOnce(&mut Loaded) -> Result<Value> + Send + 'static,
) -> Response {
    let dir = match paths::run(&studio.root, name) {
        Ok(d) => d,
        Err(e) => return refuse(StatusCode::NOT_FOUND, e),
    };
    answer(studio.workshop.run(move |shop| f(shop.model(&dir)?)).await)
}

fn answer(r: Result<Value>) -> Response {
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => refuse(StatusCode::BAD_REQUEST, format!("{e:#}")),
    }
}

fn count(n: usize) -> Result<()> {
    if n == 0 || n > MOST_PICTURES {
        bail!("n: 1 to {MOST_PICTURES} pictures per request, found {n}");
    }
    Ok(())
}

fn latent(m: &Loaded) -> Result<&dyn genlab_core::LatentDecode> {
    m.model.as_latent().ok_or_else(|| {
        anyhow!(
            "{} has no latent space to explore (`genlab models` lists the families that do)",
            m.config.family
        )
    })
}

/// Rows of `width` numbers as a `[rows, width]` tensor, or an error naming `what`.
fn rows(
    v: &[Vec<f32>],
    width: usize,
    what: &str,
    device: &burn::tensor::Device,
) -> Result<burn::tensor::Tensor<2>> {
    if v.is_empty() || v.len() > MOST_PICTURES {
        bail!("{what}: 1 to {MOST_PICTURES} rows, found {}", v.len());
    }
    if let Some(r) = v.iter().find(|r| r.len() != width) {
        bail!(
            "{what}: rows of {width} numbers (the model's code size), found one of {}",
            r.len()
        );
    }
    if v.iter().flatten().any(|x| !x.is_finite()) {
        bail!("{what}: every number must be finite");
    }
    Ok(matrix(v.concat(), v.len(), width, device))
}

/// Model-space images `[n, c*h*w]` as PNG data URIs.
fn pictures(m: &Loaded, x: burn::tensor::Tensor<2>) -> Result<Vec<String>> {
    let images = genlab_eval::pictures::to_images(x, &m.info);
    Ok((0..images.n)
        .map(|i| data_uri(&genlab_viz::png_bytes(&images.image(i))))
        .collect())
}

/// PNG bytes as a data URI (the page's CSP allows `data:` images only).
fn data_uri(png: &[u8]) -> String {
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    )
}

/// Largest upload body (a base64 image in JSON): its own limit, above the studio's 64 KiB.
pub const UPLOAD_LIMIT: usize = 4 << 20;

/// What `POST /api/explore/translate` asks for: an image (PNG or JPEG, base64), translated
/// `ab` (the model's direction) or `ba` (the way back, CycleGAN and DiscoGAN).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranslateAsk {
    run: String,
    image: String,
    #[serde(default)]
    direction: Option<String>,
    #[serde(default)]
    seed: u64,
}

/// `POST /api/explore/translate`: `{input, output, back}` data URIs: the upload as the model
/// takes it (resized to its input size), its translation, and the round trip for models that
/// learn both directions. The upload is decoded in memory with size limits and never written.
pub async fn translate(
    State(studio): State<Arc<Studio>>,
    Json(ask): Json<TranslateAsk>,
) -> Response {
    on_model(&studio, &ask.run, move |m| {
        let t = m.model.as_translate().ok_or_else(|| {
            anyhow!(
                "{} does not translate images ({TRANSLATORS})",
                m.config.family
            )
        })?;
        let back = match ask.direction.as_deref() {
            None | Some("ab") => false,
            Some("ba") => true,
            Some(d) => bail!("direction: ab or ba, found `{d}`"),
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(ask.image.trim())
            .map_err(|e| anyhow!("image: not base64 ({e})"))?;
        let (from, to) = if back {
            (m.info.shape, t.input_shape())
        } else {
            (t.input_shape(), m.info.shape)
        };
        let unit = genlab_data::decode_upload(&bytes, from.c, (from.w as u32, from.h as u32))?;
        let pre = m.info.preprocess.for_evaluation();
        let x: Vec<f32> = unit.iter().map(|&v| pre.from_unit(v)).collect();
        let x = matrix(x, 1, from.dim(), &m.device);
        let mut rng = rng_for(ask.seed, 0, Stream::Eval);
        let (y, round) = if back {
            let y = t.translate_back(x.clone(), &mut rng).ok_or_else(|| {
                anyhow!(
                    "{} translates one way only; use direction ab",
                    m.config.family
                )
            })??;
            let round = t.translate(y.clone(), &mut rng)?;
            (y, Some(round))
        } else {
            let y = t.translate(x.clone(), &mut rng)?;
            let round = t.translate_back(y.clone(), &mut rng).transpose()?;
            (y, round)
        };
        let uri = |v: burn::tensor::Tensor<2>, s: genlab_data::Shape| {
            let unit: Vec<f32> = to_vec(v).into_iter().map(|v| pre.to_unit(v)).collect();
            let img = genlab_viz::Images::new(unit, 1, s.c, s.h, s.w).image(0);
            data_uri(&genlab_viz::png_bytes(&img))
        };
        Ok(json!({
            "input": uri(x, from),
            "output": uri(y, to),
            "back": round.map(|r| uri(r, from)),
        }))
    })
    .await
}
