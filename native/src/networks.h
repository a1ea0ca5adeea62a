// Network architectures of the segmentation engine. Only architecture lives here; noising, sampling, schedules and
// data handling live in the managed code.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace ssn {

struct NetworkShape {
    std::vector<int64_t> widths;
    int64_t time_embedding_dim = 0;  // 0: no timestep conditioning
    double leaky_slope = 0.01;
};

// Two conv-InstanceNorm-LeakyReLU units, the first possibly strided (nnU-Net's downsampling by strided conv).
// With timestep conditioning, the first unit's normalised activations are scaled and shifted by the time
// embedding (FiLM): a plain additive bias before InstanceNorm would be normalised away.
class StageImpl : public torch::nn::Module {
public:
    StageImpl(int64_t in_channels, int64_t out_channels, int64_t stride, double leaky_slope, int64_t time_hidden);
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& time_hidden);

private:
    torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
    torch::nn::InstanceNorm2d norm1_{nullptr}, norm2_{nullptr};
    torch::nn::Linear film_{nullptr};
    double leaky_slope_;
};
TORCH_MODULE(Stage);

// Encoder: one stage per level; level 0 keeps the resolution, every next level halves it.
class EncoderImpl : public torch::nn::Module {
public:
    EncoderImpl(int64_t in_channels, const NetworkShape& shape, bool time_conditioned);
    // Adds `injected[level]` (same channels and resolution, batch 1 or equal) to every level's output when given.
    std::vector<torch::Tensor> forward(torch::Tensor x, const torch::Tensor& time_hidden,
                                       const std::vector<torch::Tensor>* injected);

private:
    torch::nn::ModuleList stages_;
};
TORCH_MODULE(Encoder);

// Decoder: transposed-conv upsampling, concatenation with the skip, one stage per level, back to level 0.
class DecoderImpl : public torch::nn::Module {
public:
    DecoderImpl(const NetworkShape& shape, bool time_conditioned);
    torch::Tensor forward(const std::vector<torch::Tensor>& skips, const torch::Tensor& time_hidden);

private:
    torch::nn::ModuleList ups_;
    torch::nn::ModuleList stages_;
};
TORCH_MODULE(Decoder);

class PresegmentationNetImpl : public torch::nn::Module {
public:
    explicit PresegmentationNetImpl(const NetworkShape& shape);
    torch::Tensor forward(const torch::Tensor& image);  // -> logits B x 3 x H x W
    int64_t forward_flops(int64_t height, int64_t width) const;

private:
    NetworkShape shape_;
    Encoder encoder_{nullptr};
    Decoder decoder_{nullptr};
    torch::nn::Conv2d head_{nullptr};
};
TORCH_MODULE(PresegmentationNet);

class DiffusionNetImpl : public torch::nn::Module {
public:
    explicit DiffusionNetImpl(const NetworkShape& shape);
    std::vector<torch::Tensor> encode_image(const torch::Tensor& image);
    // Raw output z; x0_hat = tanh(z) and the [0,1] probability is sigmoid(2z) (the same thing, numerically stable).
    // image and image_features have batch 1 (broadcast to every x_t) or the batch of x_t.
    torch::Tensor denoise_raw(const torch::Tensor& image, const std::vector<torch::Tensor>& image_features,
                              const torch::Tensor& x_t, const torch::Tensor& timesteps);
    int64_t denoiser_flops(int64_t height, int64_t width) const;
    int64_t image_encoder_flops(int64_t height, int64_t width) const;

private:
    torch::Tensor time_hidden(const torch::Tensor& timesteps);

    NetworkShape shape_;
    Encoder image_encoder_{nullptr};
    Encoder denoiser_encoder_{nullptr};
    Decoder decoder_{nullptr};
    torch::nn::Conv2d head_{nullptr};
    torch::nn::Linear time_in_{nullptr}, time_out_{nullptr};
};
TORCH_MODULE(DiffusionNet);

// Losses. Targets are 3 binary channels (canal, vertebra, disc).
torch::Tensor soft_dice_loss(const torch::Tensor& probabilities, const torch::Tensor& targets);
torch::Tensor one_hot_targets(const torch::Tensor& labels);  // uint8 B x H x W -> float B x 3 x H x W

}  // namespace ssn
