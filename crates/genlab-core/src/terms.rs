//! What each loss term and metric in metrics.jsonl means, in one sentence: shown by `genlab
//! models --terms` and in the titles of curves.png. Every term a family logs must be here (the
//! registry smoke test checks it).

/// `(term, meaning)`, alphabetical.
pub const TERMS: &[(&str, &str)] = &[
    ("accuracy", "share of the batch's examples the classifier puts in their labelled class"),
    ("adv", "the generator's adversarial term -log D(G(x)) against the current discriminator (weighted into its loss: x 0.001 in the context encoder and SRGAN)"),
    ("bic", "Bayesian information criterion of the fit on the training set: -2 log L + p ln n (lower is better)"),
    ("ce", "cross-entropy -log p(y | x) of the labelled batch, nats per example"),
    ("content", "SRGAN's content loss: squared distance of the judge's last convolutional feature maps of real and super-resolved images (VGG's in the paper), or the pixel MSE"),
    ("cycle", "CycleGAN's cycle-consistency terms, lambda (|F(G(a)) - a| + |G(F(b)) - b|), mean absolute error per pixel"),
    ("d_a_loss", "D_A's loss on real domain-A images and on translations into A (CycleGAN: least squares, pooled translations; DiscoGAN: logistic)"),
    ("d_b_loss", "D_B's loss on real domain-B images and on translations into B (CycleGAN: least squares, pooled translations; DiscoGAN: logistic)"),
    ("d_fake", "the discriminator's mean output on generated samples: a probability D(x) for the logistic losses, a score for least-squares, hinge and Wasserstein critics"),
    ("d_loss", "the discriminator's (critic's) loss on real and generated samples"),
    ("d_real", "the discriminator's mean output on real examples: a probability D(x) for the logistic losses, a score for least-squares, hinge and Wasserstein critics"),
    ("effective_components", "components of the Bayesian mixture whose weight is above 1% (the rest were pruned)"),
    ("free_energy_gap", "mean free energy of training minus held-out examples: growing means the RBM overfits"),
    ("g_ab_adv", "the adversarial term of G: A -> B against D_B (CycleGAN: (D_B(G(a)) - 1)^2; DiscoGAN: -log D_B(G(a)))"),
    ("g_ba_adv", "the adversarial term of F: B -> A against D_A (CycleGAN: (D_A(F(b)) - 1)^2; DiscoGAN: -log D_A(F(b)))"),
    ("g_gan", "the translator's adversarial term against the current discriminator (the L1 term is added to it, weighted)"),
    ("g_loss", "the generator's loss against the current discriminator"),
    ("grad_norm", "norm of the critic's input gradient at interpolated points (WGAN-GP pushes it to 1)"),
    ("gradient_penalty", "lambda (||grad D(x_hat)|| - 1)^2, the WGAN-GP term"),
    ("held_out_accuracy", "accuracy on the fixed held-out examples (train.held_out)"),
    ("held_out_ce", "ce of the fixed held-out examples (train.held_out): rising while ce falls means overfitting"),
    ("held_out_l1", "l1 of the fixed held-out pairs (train.held_out), with fixed dropout masks: rising while l1 falls means overfitting"),
    ("held_out_mse", "mse of the fixed held-out pairs (train.held_out)"),
    ("held_out_neg_elbo", "neg_elbo of the fixed held-out examples (train.held_out): above the training value means overfitting"),
    ("held_out_neg_iwae_bound", "neg_iwae_bound of the fixed held-out examples (train.held_out)"),
    ("held_out_nll", "nll of the fixed held-out examples (train.held_out): rising while nll falls means overfitting"),
    ("held_out_rec", "rec of the fixed held-out examples (train.held_out), from clean inputs"),
    ("held_out_recon_error", "recon_error of the fixed held-out examples (train.held_out), one deterministic up-down pass"),
    ("high_quality_fraction", "share of 2,500 samples within 3 sigma of a true mode"),
    ("identity", "CycleGAN's identity terms, lambda_id lambda (|G(b) - b| + |F(a) - a|): keeps colours and tones"),
    ("info", "InfoGAN's mutual-information term: the error of recovering the codes from the samples"),
    ("kl", "KL(q(z|x) || p(z)) in nats per example: the cost of the code"),
    ("l1", "mean absolute error per pixel between the translations and their targets, in model units"),
    ("layer", "which layer of the deep belief net this step trains (greedy, bottom up)"),
    ("loss", "the objective the family minimises (see its paper)"),
    ("modes_captured", "modes of the toy mixture with at least one high-quality sample nearest to them"),
    ("mse", "mean squared error per pixel between the outputs and their targets, in model units"),
    ("neg_elbo", "negative evidence lower bound = rec_nll + kl, nats per example (an upper bound on -log p(x))"),
    ("neg_iwae_bound", "negative importance-weighted bound with k samples, nats per example (tighter than neg_elbo)"),
    ("neg_lower_bound", "negative variational lower bound of the Bayesian mixture, nats per example"),
    ("nll", "negative log-likelihood of the training batch, nats per example"),
    ("penalty", "the autoencoder's regulariser: sparsity (L1 or KL) or contraction (Jacobian norm)"),
    ("real_class_ce", "the auxiliary classifier's cross-entropy on real examples' labels"),
    ("rec", "reconstruction error: of the autoencoder (squared error or cross-entropy, summed per example); of the context encoder (squared error over the hole and its band, the band x 10, mean per pixel)"),
    ("rec_nll", "-log p(x|z): reconstruction term of the ELBO, nats per example"),
    ("recon_a", "DiscoGAN's reconstruction of domain A, |G_BA(G_AB(a)) - a|^2, mean per pixel"),
    ("recon_b", "DiscoGAN's reconstruction of domain B, |G_AB(G_BA(b)) - b|^2, mean per pixel"),
    ("recon_error", "squared error between the data and one up-down pass of the RBM, per example"),
    ("wasserstein", "the critic's estimate of the Wasserstein-1 distance: E D(real) - E D(fake)"),
];

/// The meaning of `term`, if it is a known term.
pub fn meaning(term: &str) -> Option<&'static str> {
    TERMS.iter().find(|(t, _)| *t == term).map(|(_, m)| *m)
}

#[cfg(test)]
mod tests {
    #[test]
    fn terms_are_sorted_and_unique() {
        let names: Vec<&str> = super::TERMS.iter().map(|t| t.0).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(names, sorted);
    }
}
