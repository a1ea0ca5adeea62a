#include "networks.h"

#include <cmath>

namespace ssn {
namespace {

constexpr int64_t kMaskChannels = 3;

torch::nn::Conv2d conv3x3(int64_t in, int64_t out, int64_t stride, double leaky_slope) {
    // No bias: the InstanceNorm that follows removes any per-channel constant.
    torch::nn::Conv2d conv(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false));
    torch::nn::init::kaiming_normal_(conv->weight, leaky_slope, torch::kFanIn, torch::kLeakyReLU);
    return conv;
}

torch::nn::InstanceNorm2d instance_norm(int64_t channels) {
    // No running statistics: training and serving normalise identically.
    return torch::nn::InstanceNorm2d(
        torch::nn::InstanceNorm2dOptions(channels).affine(true).track_running_stats(false).eps(1e-5));
}

// Multiply-accumulates of a k x k convolution producing out_h x out_w.
int64_t conv_macs(int64_t in, int64_t out, int64_t k, int64_t out_h, int64_t out_w) {
    return in * out * k * k * out_h * out_w;
}

// Encoder + decoder + 1x1 head, the shared U-Net skeleton, in multiply-accumulates.
int64_t unet_macs(int64_t in_channels, const NetworkShape& s, int64_t h, int64_t w, bool with_decoder) {
    int64_t macs = 0;
    int64_t prev = in_channels;
    const auto levels = static_cast<int64_t>(s.widths.size());
    for (int64_t level = 0; level < levels; ++level) {
        const int64_t lh = h >> level, lw = w >> level, c = s.widths[level];
        macs += conv_macs(prev, c, 3, lh, lw) + conv_macs(c, c, 3, lh, lw);
        prev = c;
    }
    if (!with_decoder) return macs;
    for (int64_t level = levels - 2; level >= 0; --level) {
        const int64_t lh = h >> level, lw = w >> level, c = s.widths[level], below = s.widths[level + 1];
        macs += below * c * 4 * (lh / 2) * (lw / 2);  // 2x2 stride-2 transposed conv
        macs += conv_macs(2 * c, c, 3, lh, lw) + conv_macs(c, c, 3, lh, lw);
    }
    macs += conv_macs(s.widths[0], kMaskChannels, 1, h, w);
    return macs;
}

int64_t time_macs(const NetworkShape& s) {
    const int64_t d = s.time_embedding_dim, hidden = 4 * d;
    int64_t macs = d * hidden + hidden * hidden;
    const auto levels = static_cast<int64_t>(s.widths.size());
    for (int64_t level = 0; level < levels; ++level) macs += hidden * 2 * s.widths[level];      // encoder FiLM
    for (int64_t level = 0; level + 1 < levels; ++level) macs += hidden * 2 * s.widths[level];  // decoder FiLM
    return macs;
}

}  // namespace

StageImpl::StageImpl(int64_t in_channels, int64_t out_channels, int64_t stride, double leaky_slope,
                     int64_t time_hidden)
    : leaky_slope_(leaky_slope) {
    conv1_ = register_module("conv1", conv3x3(in_channels, out_channels, stride, leaky_slope));
    norm1_ = register_module("norm1", instance_norm(out_channels));
    conv2_ = register_module("conv2", conv3x3(out_channels, out_channels, 1, leaky_slope));
    norm2_ = register_module("norm2", instance_norm(out_channels));
    if (time_hidden > 0) {
        film_ = register_module("film", torch::nn::Linear(time_hidden, 2 * out_channels));
        // Start as identity so an untrained time path does not disturb the image path.
        torch::nn::init::zeros_(film_->weight);
        torch::nn::init::zeros_(film_->bias);
    }
}

torch::Tensor StageImpl::forward(const torch::Tensor& x, const torch::Tensor& time_hidden) {
    auto h = norm1_->forward(conv1_->forward(x));
    if (!film_.is_empty() && time_hidden.defined()) {
        auto scale_shift = film_->forward(time_hidden).unsqueeze(-1).unsqueeze(-1);
        auto parts = scale_shift.chunk(2, 1);
        h = h * (1 + parts[0]) + parts[1];
    }
    h = torch::leaky_relu(h, leaky_slope_);
    return torch::leaky_relu(norm2_->forward(conv2_->forward(h)), leaky_slope_);
}

EncoderImpl::EncoderImpl(int64_t in_channels, const NetworkShape& shape, bool time_conditioned) {
    const int64_t time_hidden = time_conditioned ? 4 * shape.time_embedding_dim : 0;
    int64_t prev = in_channels;
    for (size_t level = 0; level < shape.widths.size(); ++level) {
        stages_->push_back(Stage(prev, shape.widths[level], level == 0 ? 1 : 2, shape.leaky_slope, time_hidden));
        prev = shape.widths[level];
    }
    register_module("stages", stages_);
}

std::vector<torch::Tensor> EncoderImpl::forward(torch::Tensor x, const torch::Tensor& time_hidden,
                                                const std::vector<torch::Tensor>* injected) {
    std::vector<torch::Tensor> outputs;
    outputs.reserve(stages_->size());
    for (size_t level = 0; level < stages_->size(); ++level) {
        x = stages_[level]->as<StageImpl>()->forward(x, time_hidden);
        if (injected != nullptr) x = x + (*injected)[level];
        outputs.push_back(x);
    }
    return outputs;
}

DecoderImpl::DecoderImpl(const NetworkShape& shape, bool time_conditioned) {
    const int64_t time_hidden = time_conditioned ? 4 * shape.time_embedding_dim : 0;
    // Index i handles the way up from level i+1 to level i.
    for (size_t level = 0; level + 1 < shape.widths.size(); ++level) {
        const int64_t c = shape.widths[level], below = shape.widths[level + 1];
        ups_->push_back(torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(below, c, 2).stride(2)));
        stages_->push_back(Stage(2 * c, c, 1, shape.leaky_slope, time_hidden));
    }
    register_module("ups", ups_);
    register_module("stages", stages_);
}

torch::Tensor DecoderImpl::forward(const std::vector<torch::Tensor>& skips, const torch::Tensor& time_hidden) {
    auto x = skips.back();
    for (int64_t level = static_cast<int64_t>(ups_->size()) - 1; level >= 0; --level) {
        x = ups_[level]->as<torch::nn::ConvTranspose2dImpl>()->forward(x);
        x = torch::cat({x, skips[level]}, 1);
        x = stages_[level]->as<StageImpl>()->forward(x, time_hidden);
    }
    return x;
}

PresegmentationNetImpl::PresegmentationNetImpl(const NetworkShape& shape) : shape_(shape) {
    encoder_ = register_module("encoder", Encoder(1, shape, false));
    decoder_ = register_module("decoder", Decoder(shape, false));
    head_ = register_module("head", torch::nn::Conv2d(torch::nn::Conv2dOptions(shape.widths[0], kMaskChannels, 1)));
}

torch::Tensor PresegmentationNetImpl::forward(const torch::Tensor& image) {
    const torch::Tensor none;
    return head_->forward(decoder_->forward(encoder_->forward(image, none, nullptr), none));
}

int64_t PresegmentationNetImpl::forward_flops(int64_t height, int64_t width) const {
    return 2 * unet_macs(1, shape_, height, width, true);
}

DiffusionNetImpl::DiffusionNetImpl(const NetworkShape& shape) : shape_(shape) {
    const int64_t d = shape.time_embedding_dim;
    image_encoder_ = register_module("image_encoder", Encoder(1, shape, false));
    denoiser_encoder_ = register_module("denoiser_encoder", Encoder(1 + kMaskChannels, shape, true));
    decoder_ = register_module("decoder", Decoder(shape, true));
    head_ = register_module("head", torch::nn::Conv2d(torch::nn::Conv2dOptions(shape.widths[0], kMaskChannels, 1)));
    time_in_ = register_module("time_in", torch::nn::Linear(d, 4 * d));
    time_out_ = register_module("time_out", torch::nn::Linear(4 * d, 4 * d));
}

std::vector<torch::Tensor> DiffusionNetImpl::encode_image(const torch::Tensor& image) {
    return image_encoder_->forward(image, torch::Tensor(), nullptr);
}

torch::Tensor DiffusionNetImpl::time_hidden(const torch::Tensor& timesteps) {
    const int64_t half = shape_.time_embedding_dim / 2;
    auto options = torch::TensorOptions().dtype(torch::kFloat32).device(timesteps.device());
    auto frequencies = torch::exp(torch::arange(half, options) * (-std::log(10000.0) / static_cast<double>(half)));
    auto angles = timesteps.to(torch::kFloat32).unsqueeze(1) * frequencies.unsqueeze(0);
    auto embedding = torch::cat({torch::cos(angles), torch::sin(angles)}, 1);
    auto hidden = time_out_->forward(torch::silu(time_in_->forward(embedding)));
    // The stages' FiLM layers see SiLU(hidden), as in DDPM's residual blocks.
    return torch::silu(hidden);
}

torch::Tensor DiffusionNetImpl::denoise_raw(const torch::Tensor& image, const std::vector<torch::Tensor>& image_features,
                                            const torch::Tensor& x_t, const torch::Tensor& timesteps) {
    const auto hidden = time_hidden(timesteps);
    // Paper Fig. 1: the scan y is concatenated with the noisy mask x_t; a batch-1 image serves every sample.
    const auto input = torch::cat({image.expand({x_t.size(0), -1, -1, -1}), x_t}, 1);
    return head_->forward(decoder_->forward(denoiser_encoder_->forward(input, hidden, &image_features), hidden));
}

int64_t DiffusionNetImpl::denoiser_flops(int64_t height, int64_t width) const {
    return 2 * (unet_macs(1 + kMaskChannels, shape_, height, width, true) + time_macs(shape_));
}

int64_t DiffusionNetImpl::image_encoder_flops(int64_t height, int64_t width) const {
    return 2 * unet_macs(1, shape_, height, width, false);
}

torch::Tensor soft_dice_loss(const torch::Tensor& probabilities, const torch::Tensor& targets) {
    // Per batch element and channel, smoothed by 1 so an empty channel predicted empty costs nothing.
    const std::vector<int64_t> spatial{2, 3};
    auto intersection = (probabilities * targets).sum(spatial);
    auto denominator = probabilities.sum(spatial) + targets.sum(spatial);
    return 1 - ((2 * intersection + 1) / (denominator + 1)).mean();
}

torch::Tensor one_hot_targets(const torch::Tensor& labels) {
    auto l = labels.to(torch::kLong);
    // Label 1 canal -> channel 0, 2 vertebra -> 1, 3 disc -> 2; background has no channel.
    return torch::stack({l.eq(1), l.eq(2), l.eq(3)}, 1).to(torch::kFloat32);
}

}  // namespace ssn
