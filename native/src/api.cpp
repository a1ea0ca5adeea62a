// C ABI over the networks: argument checks, device placement, error capture, checkpoints and training steps.
#include "spineseg_native.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <map>
#include <memory>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include "networks.h"

namespace {

constexpr int64_t kCheckpointFormat = 1;
constexpr int64_t kMaskChannels = 3;

thread_local std::string last_error;

// Desired intra-op thread count; each calling thread applies it lazily because OpenMP keeps the setting per thread.
std::atomic<int32_t> desired_threads{0};
thread_local int32_t applied_threads = -1;

std::atomic<int64_t> next_model_id{1};

struct Failure : std::exception {
    Failure(int32_t code, std::string message) : code(code), message(std::move(message)) {}
    const char* what() const noexcept override { return message.c_str(); }
    int32_t code;
    std::string message;
};

[[noreturn]] void fail(int32_t code, const std::string& message) { throw Failure(code, message); }

template <typename T>
void require_not_null(const T* pointer, const char* name) {
    if (pointer == nullptr) fail(SSN_ERROR_INVALID_ARGUMENT, std::string(name) + " is null");
}

template <typename Body>
int32_t guarded(Body&& body) {
    last_error.clear();
    try {
        body();
        return SSN_OK;
    } catch (const Failure& f) {
        last_error = f.message;
        return f.code;
    } catch (const c10::Error& e) {
        last_error = e.what_without_backtrace();
        const bool oom = last_error.find("out of memory") != std::string::npos;
        return oom ? SSN_ERROR_OUT_OF_MEMORY : SSN_ERROR_TORCH;
    } catch (const std::bad_alloc&) {
        last_error = "out of memory";
        return SSN_ERROR_OUT_OF_MEMORY;
    } catch (const std::exception& e) {
        last_error = e.what();
        return SSN_ERROR_UNKNOWN;
    } catch (...) {
        last_error = "unknown native exception";
        return SSN_ERROR_UNKNOWN;
    }
}

void apply_threads() {
    const int32_t desired = desired_threads.load();
    if (desired > 0 && desired != applied_threads) {
        at::set_num_threads(desired);
        applied_threads = desired;
    }
}

std::string shape_text(at::IntArrayRef sizes) {
    std::ostringstream text;
    text << '[';
    for (size_t i = 0; i < sizes.size(); ++i) text << (i ? "," : "") << sizes[i];
    text << ']';
    return text.str();
}

const char* kind_name(int64_t kind) {
    switch (kind) {
        case SSN_NETWORK_PRESEGMENTATION: return "presegmentation";
        case SSN_NETWORK_DIFFUSION: return "diffusion (SpineSegDiff)";
        default: return "unknown";
    }
}

torch::Device resolve_device(int32_t device) {
    switch (device) {
        case SSN_DEVICE_AUTO: return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
        case SSN_DEVICE_CPU: return torch::Device(torch::kCPU);
        case SSN_DEVICE_CUDA:
            if (!torch::cuda::is_available())
                fail(SSN_ERROR_DEVICE, "CUDA was requested but no CUDA device is available to this libtorch");
            return torch::Device(torch::kCUDA);
        default: fail(SSN_ERROR_INVALID_ARGUMENT, "device must be 0 (auto), 1 (cpu) or 2 (cuda), got " + std::to_string(device));
    }
}

ssn::NetworkShape validated_shape(const ssn_network_config& c) {
    if (c.kind != SSN_NETWORK_PRESEGMENTATION && c.kind != SSN_NETWORK_DIFFUSION)
        fail(SSN_ERROR_INVALID_ARGUMENT, "network kind must be 1 (presegmentation) or 2 (diffusion), got " + std::to_string(c.kind));
    if (c.level_count < 2 || c.level_count > SSN_MAX_LEVELS)
        fail(SSN_ERROR_INVALID_ARGUMENT, "level_count must be 2.." + std::to_string(SSN_MAX_LEVELS) + ", got " + std::to_string(c.level_count));
    ssn::NetworkShape shape;
    for (int32_t i = 0; i < c.level_count; ++i) {
        if (c.widths[i] < 1 || c.widths[i] > 4096)
            fail(SSN_ERROR_INVALID_ARGUMENT, "width of level " + std::to_string(i) + " must be 1..4096, got " + std::to_string(c.widths[i]));
        shape.widths.push_back(c.widths[i]);
    }
    if (c.kind == SSN_NETWORK_DIFFUSION) {
        if (c.time_embedding_dim < 2 || c.time_embedding_dim % 2 != 0 || c.time_embedding_dim > 4096)
            fail(SSN_ERROR_INVALID_ARGUMENT, "time_embedding_dim must be even and 2..4096, got " + std::to_string(c.time_embedding_dim));
        shape.time_embedding_dim = c.time_embedding_dim;
    } else if (c.time_embedding_dim != 0) {
        fail(SSN_ERROR_INVALID_ARGUMENT, "time_embedding_dim must be 0 for a presegmentation network");
    }
    if (!(c.leaky_slope >= 0.0f && c.leaky_slope < 1.0f))
        fail(SSN_ERROR_INVALID_ARGUMENT, "leaky_slope must be in [0, 1)");
    shape.leaky_slope = c.leaky_slope;
    return shape;
}

}  // namespace

struct ssn_model {
    int64_t id = 0;
    ssn_network_config config{};
    torch::Device device{torch::kCPU};
    ssn::PresegmentationNet preseg{nullptr};
    ssn::DiffusionNet diffusion{nullptr};

    torch::nn::Module& module() {
        return preseg ? static_cast<torch::nn::Module&>(*preseg) : static_cast<torch::nn::Module&>(*diffusion);
    }
};

struct ssn_optimizer {
    int64_t model_id = 0;
    std::unique_ptr<torch::optim::AdamW> adamw;
};

struct ssn_features {
    int64_t model_id = 0;
    torch::Tensor image;
    std::vector<torch::Tensor> levels;
};

namespace {

ssn_model* build_model(const ssn_network_config& config, torch::Device device) {
    auto shape = validated_shape(config);
    auto model = std::make_unique<ssn_model>();
    model->id = next_model_id.fetch_add(1);
    model->config = config;
    for (int32_t i = config.level_count; i < SSN_MAX_LEVELS; ++i) model->config.widths[i] = 0;
    model->device = device;
    if (config.kind == SSN_NETWORK_PRESEGMENTATION) {
        model->preseg = ssn::PresegmentationNet(shape);
        model->preseg->to(device);
    } else {
        model->diffusion = ssn::DiffusionNet(shape);
        model->diffusion->to(device);
    }
    return model.release();
}

void require_kind(const ssn_model* model, int32_t kind, const char* operation) {
    require_not_null(model, "model");
    if (model->config.kind != kind)
        fail(SSN_ERROR_INVALID_ARGUMENT, std::string(operation) + " needs a " + kind_name(kind) + " network, this one is " +
                                             kind_name(model->config.kind));
}

void require_geometry(const ssn_model* model, int32_t batch, int32_t height, int32_t width) {
    if (batch < 1 || height < 1 || width < 1)
        fail(SSN_ERROR_SHAPE, "batch, height and width must be positive, got " + std::to_string(batch) + "x" +
                                  std::to_string(height) + "x" + std::to_string(width));
    const int32_t multiple = 1 << (model->config.level_count - 1);
    if (height % multiple != 0 || width % multiple != 0)
        fail(SSN_ERROR_SHAPE, "height and width must be multiples of " + std::to_string(multiple) + " for " +
                                  std::to_string(model->config.level_count) + " levels, got " + std::to_string(height) +
                                  "x" + std::to_string(width));
}

// Wraps a caller buffer without copying; moved to the model's device only when that is not the CPU.
torch::Tensor input_tensor(const void* data, at::IntArrayRef sizes, torch::ScalarType type, const torch::Device& device) {
    auto t = torch::from_blob(const_cast<void*>(data), sizes, torch::TensorOptions().dtype(type));
    return device.is_cpu() ? t : t.to(device);
}

void copy_out(const torch::Tensor& result, float* destination) {
    auto target = torch::from_blob(destination, result.sizes(), torch::TensorOptions().dtype(torch::kFloat32));
    target.copy_(result);
}

torch::Tensor timestep_tensor(const int64_t* timesteps, int32_t batch, const torch::Device& device) {
    require_not_null(timesteps, "timesteps");
    for (int32_t i = 0; i < batch; ++i)
        if (timesteps[i] < 0) fail(SSN_ERROR_INVALID_ARGUMENT, "timesteps must be >= 0, got " + std::to_string(timesteps[i]));
    return input_tensor(timesteps, {batch}, torch::kInt64, device);
}

std::vector<int64_t> config_vector(const ssn_network_config& c) {
    std::vector<int64_t> values{c.level_count, c.time_embedding_dim};
    for (int32_t i = 0; i < SSN_MAX_LEVELS; ++i) values.push_back(c.widths[i]);
    return values;
}

std::vector<std::pair<std::string, torch::Tensor>> named_parameters(ssn_model* model) {
    std::vector<std::pair<std::string, torch::Tensor>> result;
    for (const auto& item : model->module().named_parameters(true)) result.emplace_back(item.key(), item.value());
    return result;
}

void open_archive(torch::serialize::InputArchive& archive, const char* path) {
    require_not_null(path, "path");
    {
        std::ifstream probe(path, std::ios::binary);
        if (!probe) fail(SSN_ERROR_IO, std::string("checkpoint file not found or unreadable: ") + path);
    }
    try {
        archive.load_from(path, torch::Device(torch::kCPU));
    } catch (const c10::Error& e) {
        fail(SSN_ERROR_CHECKPOINT, std::string("not a SpineSegDiff checkpoint (unreadable archive): ") + path + ": " +
                                       e.what_without_backtrace());
    }
}

int64_t read_int(torch::serialize::InputArchive& archive, const std::string& key, const char* path) {
    c10::IValue value;
    if (!archive.try_read(key, value) || !value.isInt())
        fail(SSN_ERROR_CHECKPOINT, std::string("not a SpineSegDiff checkpoint (no '") + key + "' entry): " + path);
    return value.toInt();
}

ssn_network_config read_config(torch::serialize::InputArchive& archive, const char* path) {
    if (read_int(archive, "ssn_format", path) != kCheckpointFormat)
        fail(SSN_ERROR_CHECKPOINT, std::string("checkpoint format version is not ") + std::to_string(kCheckpointFormat) + ": " + path);
    ssn_network_config config{};
    config.kind = static_cast<int32_t>(read_int(archive, "kind", path));
    c10::IValue values, slope;
    if (!archive.try_read("config", values) || !values.isIntList() || !archive.try_read("leaky_slope", slope) || !slope.isDouble())
        fail(SSN_ERROR_CHECKPOINT, std::string("checkpoint has no valid configuration: ") + path);
    auto list = values.toIntVector();
    if (list.size() != 2 + SSN_MAX_LEVELS) fail(SSN_ERROR_CHECKPOINT, std::string("checkpoint configuration has a wrong length: ") + path);
    config.level_count = static_cast<int32_t>(list[0]);
    config.time_embedding_dim = static_cast<int32_t>(list[1]);
    for (int32_t i = 0; i < SSN_MAX_LEVELS; ++i) config.widths[i] = static_cast<int32_t>(list[2 + i]);
    config.leaky_slope = static_cast<float>(slope.toDouble());
    return config;
}

// Checks the stored parameter names against the model's, in order, reporting the first difference.
void check_parameter_names(torch::serialize::InputArchive& archive, ssn_model* model, const char* path) {
    c10::IValue stored;
    if (!archive.try_read("parameter_names", stored) || !stored.isList())
        fail(SSN_ERROR_CHECKPOINT, std::string("checkpoint has no parameter list: ") + path);
    auto names = stored.toListRef();
    auto expected = named_parameters(model);
    for (size_t i = 0; i < std::max(names.size(), expected.size()); ++i) {
        const std::string have = i < names.size() ? names[i].toStringRef() : std::string("<none>");
        const std::string want = i < expected.size() ? expected[i].first : std::string("<none>");
        if (have != want)
            fail(SSN_ERROR_CHECKPOINT, "checkpoint parameter #" + std::to_string(i) + " is '" + have + "', the configuration expects '" +
                                           want + "': " + path);
    }
}

torch::Tensor train_forward_preseg(ssn_model* model, const float* images, const uint8_t* labels, int32_t batch,
                                   int32_t height, int32_t width, ssn_loss* loss) {
    auto image = input_tensor(images, {batch, 1, height, width}, torch::kFloat32, model->device);
    auto label_map = input_tensor(labels, {batch, height, width}, torch::kUInt8, model->device);
    if (label_map.max().item<int64_t>() > 3)
        fail(SSN_ERROR_INVALID_ARGUMENT, "labels must be 0 (background), 1 (canal), 2 (vertebra) or 3 (disc)");
    auto targets = ssn::one_hot_targets(label_map);
    auto logits = model->preseg->forward(image);
    auto dice = ssn::soft_dice_loss(torch::sigmoid(logits), targets);
    auto bce = torch::binary_cross_entropy_with_logits(logits, targets);
    auto total = dice + bce;
    loss->mse = 0;
    loss->dice = dice.item<double>();
    loss->bce = bce.item<double>();
    loss->total = total.item<double>();
    return total;
}

torch::Tensor train_forward_diffusion(ssn_model* model, const float* images, const float* x_t, const int64_t* timesteps,
                                      const float* x0, int32_t batch, int32_t height, int32_t width, ssn_loss* loss) {
    auto image = input_tensor(images, {batch, 1, height, width}, torch::kFloat32, model->device);
    auto noisy = input_tensor(x_t, {batch, kMaskChannels, height, width}, torch::kFloat32, model->device);
    auto clean = input_tensor(x0, {batch, kMaskChannels, height, width}, torch::kFloat32, model->device);
    auto t = timestep_tensor(timesteps, batch, model->device);
    auto raw = model->diffusion->denoise_raw(image, model->diffusion->encode_image(image), noisy, t);
    auto targets = (clean + 1) * 0.5;
    auto mse = torch::mse_loss(torch::tanh(raw), clean);
    // (tanh(z) + 1) / 2 == sigmoid(2z): Dice and BCE on the [0,1] mapping without log(0) near saturation.
    auto dice = ssn::soft_dice_loss(torch::sigmoid(2 * raw), targets);
    auto bce = torch::binary_cross_entropy_with_logits(2 * raw, targets);
    auto total = mse + dice + bce;
    loss->mse = mse.item<double>();
    loss->dice = dice.item<double>();
    loss->bce = bce.item<double>();
    loss->total = total.item<double>();
    return total;
}

void require_optimizer_for(ssn_optimizer* optimizer, ssn_model* model) {
    require_not_null(optimizer, "optimizer");
    if (optimizer->model_id != model->id) fail(SSN_ERROR_INVALID_ARGUMENT, "the optimizer was created for another model");
}

}  // namespace

extern "C" {

SSN_API int32_t ssn_abi_version(void) { return SSN_ABI_VERSION; }

SSN_API const char* ssn_last_error(void) { return last_error.c_str(); }

SSN_API int32_t ssn_torch_version(int32_t* major, int32_t* minor, int32_t* patch) {
    return guarded([&] {
        require_not_null(major, "major");
        require_not_null(minor, "minor");
        require_not_null(patch, "patch");
        *major = TORCH_VERSION_MAJOR;
        *minor = TORCH_VERSION_MINOR;
        *patch = TORCH_VERSION_PATCH;
    });
}

SSN_API int32_t ssn_cuda_available(int32_t* available) {
    return guarded([&] {
        require_not_null(available, "available");
        *available = torch::cuda::is_available() ? 1 : 0;
    });
}

SSN_API int32_t ssn_set_num_threads(int32_t threads) {
    return guarded([&] {
        if (threads < 1 || threads > 1024) fail(SSN_ERROR_INVALID_ARGUMENT, "threads must be 1..1024, got " + std::to_string(threads));
        desired_threads.store(threads);
        apply_threads();
    });
}

SSN_API int32_t ssn_get_num_threads(int32_t* threads) {
    return guarded([&] {
        require_not_null(threads, "threads");
        apply_threads();
        *threads = at::get_num_threads();
    });
}

SSN_API int32_t ssn_manual_seed(uint64_t seed) {
    return guarded([&] { torch::manual_seed(seed); });
}

SSN_API int32_t ssn_model_create(const ssn_network_config* config, int32_t device, ssn_model** model) {
    return guarded([&] {
        require_not_null(config, "config");
        require_not_null(model, "model");
        *model = nullptr;
        *model = build_model(*config, resolve_device(device));
    });
}

SSN_API int32_t ssn_model_load(const char* path, int32_t expected_kind, int32_t device, ssn_model** model) {
    return guarded([&] {
        require_not_null(model, "model");
        *model = nullptr;
        const auto target = resolve_device(device);
        torch::serialize::InputArchive archive;
        open_archive(archive, path);
        auto config = read_config(archive, path);
        if (config.kind != expected_kind)
            fail(SSN_ERROR_CHECKPOINT, std::string("checkpoint holds a ") + kind_name(config.kind) + " network, expected a " +
                                           kind_name(expected_kind) + " network: " + path);
        std::unique_ptr<ssn_model> loaded(build_model(config, torch::Device(torch::kCPU)));
        check_parameter_names(archive, loaded.get(), path);
        torch::serialize::InputArchive parameters;
        if (!archive.try_read("parameters", parameters)) fail(SSN_ERROR_CHECKPOINT, std::string("checkpoint has no parameters: ") + path);
        torch::NoGradGuard no_grad;
        int64_t index = 0;
        for (auto& [name, parameter] : named_parameters(loaded.get())) {
            torch::Tensor stored;
            if (!parameters.try_read("p" + std::to_string(index++), stored))
                fail(SSN_ERROR_CHECKPOINT, "checkpoint lacks the values of parameter '" + name + "': " + path);
            if (stored.sizes() != parameter.sizes() || stored.scalar_type() != parameter.scalar_type())
                fail(SSN_ERROR_CHECKPOINT, "parameter '" + name + "' has shape " + shape_text(stored.sizes()) +
                                               " in the checkpoint, the configuration expects " + shape_text(parameter.sizes()) + ": " + path);
            parameter.copy_(stored);
        }
        loaded->module().to(target);
        loaded->device = target;
        *model = loaded.release();
    });
}

SSN_API int32_t ssn_diffusion_init_from_presegmentation(ssn_model* diffusion, ssn_model* presegmentation) {
    return guarded([&] {
        require_not_null(diffusion, "diffusion");
        require_not_null(presegmentation, "presegmentation");
        if (diffusion->config.kind != SSN_NETWORK_DIFFUSION || presegmentation->config.kind != SSN_NETWORK_PRESEGMENTATION)
            fail(SSN_ERROR_INVALID_ARGUMENT, "need a diffusion network and a presegmentation network");
        if (diffusion->config.level_count != presegmentation->config.level_count ||
            !std::equal(diffusion->config.widths, diffusion->config.widths + diffusion->config.level_count, presegmentation->config.widths))
            fail(SSN_ERROR_SHAPE, "the presegmentation network's widths differ from the diffusion network's");
        if (diffusion->config.leaky_slope != presegmentation->config.leaky_slope)
            fail(SSN_ERROR_INVALID_ARGUMENT, "the presegmentation network's LeakyReLU slope differs from the diffusion network's");
        std::map<std::string, torch::Tensor> target;
        for (auto& [name, parameter] : named_parameters(diffusion)) target.emplace(name, parameter);
        torch::NoGradGuard no_grad;
        for (auto& [name, parameter] : named_parameters(presegmentation)) {
            std::string mapped;
            double scale = 1.0;
            if (name.rfind("encoder.", 0) == 0) {
                mapped = "image_encoder." + name.substr(8);
            } else if (name.rfind("decoder.", 0) == 0) {
                mapped = name;
            } else if (name.rfind("head.", 0) == 0) {
                mapped = name;
                scale = 0.5;
            } else {
                fail(SSN_ERROR_CHECKPOINT, "unexpected presegmentation parameter '" + name + "'");
            }
            auto found = target.find(mapped);
            if (found == target.end() || found->second.sizes() != parameter.sizes())
                fail(SSN_ERROR_SHAPE, "no diffusion parameter of the same shape for '" + name + "'");
            found->second.copy_(parameter.to(found->second.device()) * scale);
        }
        for (auto& [name, parameter] : target) {
            if (name.rfind("denoiser_encoder.", 0) == 0 && name.find(".norm2.") != std::string::npos) parameter.zero_();
        }
    });
}

SSN_API int32_t ssn_model_save(ssn_model* model, ssn_optimizer* optimizer, const char* path) {
    return guarded([&] {
        require_not_null(model, "model");
        require_not_null(path, "path");
        if (optimizer != nullptr) require_optimizer_for(optimizer, model);
        torch::serialize::OutputArchive archive;
        archive.write("ssn_format", c10::IValue(kCheckpointFormat));
        archive.write("kind", c10::IValue(static_cast<int64_t>(model->config.kind)));
        archive.write("config", c10::IValue(config_vector(model->config)));
        archive.write("leaky_slope", c10::IValue(static_cast<double>(model->config.leaky_slope)));
        c10::List<std::string> names;
        torch::serialize::OutputArchive parameters;
        int64_t index = 0;
        for (auto& [name, parameter] : named_parameters(model)) {
            names.push_back(name);
            // Archive keys must not contain dots, hence indices; the names list keeps the mapping checkable.
            parameters.write("p" + std::to_string(index++), parameter.detach().to(torch::kCPU));
        }
        archive.write("parameter_names", c10::IValue(names));
        archive.write("parameters", parameters);
        archive.write("has_optimizer", c10::IValue(optimizer != nullptr));
        if (optimizer != nullptr) {
            torch::serialize::OutputArchive state;
            optimizer->adamw->save(state);
            archive.write("optimizer", state);
            // libtorch 1.13 does not restore group options on load; keep them explicitly.
            auto& options = static_cast<torch::optim::AdamWOptions&>(optimizer->adamw->param_groups().front().options());
            archive.write("optimizer_learning_rate", c10::IValue(options.lr()));
            archive.write("optimizer_weight_decay", c10::IValue(options.weight_decay()));
        }
        // Write beside the target and rename, so a crash never leaves a truncated checkpoint under the real name.
        const std::string temporary = std::string(path) + ".partial";
        try {
            archive.save_to(temporary);
        } catch (const c10::Error& e) {
            fail(SSN_ERROR_IO, std::string("cannot write checkpoint ") + path + ": " + e.what_without_backtrace());
        }
        if (std::rename(temporary.c_str(), path) != 0) {
            std::remove(temporary.c_str());
            fail(SSN_ERROR_IO, std::string("cannot move checkpoint into place: ") + path);
        }
    });
}

SSN_API int32_t ssn_model_free(ssn_model* model) {
    return guarded([&] { delete model; });
}

SSN_API int32_t ssn_model_config(ssn_model* model, ssn_network_config* config) {
    return guarded([&] {
        require_not_null(model, "model");
        require_not_null(config, "config");
        *config = model->config;
    });
}

SSN_API int32_t ssn_model_device(ssn_model* model, int32_t* device) {
    return guarded([&] {
        require_not_null(model, "model");
        require_not_null(device, "device");
        *device = model->device.is_cuda() ? SSN_DEVICE_CUDA : SSN_DEVICE_CPU;
    });
}

SSN_API int32_t ssn_model_parameter_count(ssn_model* model, int64_t* count) {
    return guarded([&] {
        require_not_null(model, "model");
        require_not_null(count, "count");
        int64_t total = 0;
        for (const auto& p : model->module().parameters()) total += p.numel();
        *count = total;
    });
}

SSN_API int32_t ssn_model_forward_flops(ssn_model* model, int32_t stage, int32_t height, int32_t width, int64_t* flops) {
    return guarded([&] {
        require_not_null(model, "model");
        require_not_null(flops, "flops");
        require_geometry(model, 1, height, width);
        if (stage == SSN_STAGE_MAIN) {
            *flops = model->preseg ? model->preseg->forward_flops(height, width) : model->diffusion->denoiser_flops(height, width);
        } else if (stage == SSN_STAGE_IMAGE_ENCODER) {
            if (!model->diffusion) fail(SSN_ERROR_INVALID_ARGUMENT, "a presegmentation network has no image encoder");
            *flops = model->diffusion->image_encoder_flops(height, width);
        } else {
            fail(SSN_ERROR_INVALID_ARGUMENT, "stage must be 0 (main) or 1 (image encoder)");
        }
    });
}

SSN_API int32_t ssn_preseg_forward(ssn_model* model, const float* images, int32_t batch, int32_t height, int32_t width,
                                   float* logits) {
    return guarded([&] {
        require_kind(model, SSN_NETWORK_PRESEGMENTATION, "presegmentation forward");
        require_not_null(images, "images");
        require_not_null(logits, "logits");
        require_geometry(model, batch, height, width);
        apply_threads();
        c10::InferenceMode inference;
        copy_out(model->preseg->forward(input_tensor(images, {batch, 1, height, width}, torch::kFloat32, model->device)), logits);
    });
}

SSN_API int32_t ssn_diffusion_encode(ssn_model* model, const float* images, int32_t batch, int32_t height, int32_t width,
                                     ssn_features** features) {
    return guarded([&] {
        require_kind(model, SSN_NETWORK_DIFFUSION, "image encoding");
        require_not_null(images, "images");
        require_not_null(features, "features");
        *features = nullptr;
        require_geometry(model, batch, height, width);
        apply_threads();
        c10::InferenceMode inference;
        auto result = std::make_unique<ssn_features>();
        result->model_id = model->id;
        // Own a copy of the image: the caller's buffer may be reused before the features are.
        result->image = input_tensor(images, {batch, 1, height, width}, torch::kFloat32, model->device).clone();
        result->levels = model->diffusion->encode_image(result->image);
        *features = result.release();
    });
}

SSN_API int32_t ssn_features_free(ssn_features* features) {
    return guarded([&] { delete features; });
}

SSN_API int32_t ssn_features_shape(ssn_features* features, int32_t* batch, int32_t* height, int32_t* width) {
    return guarded([&] {
        require_not_null(features, "features");
        require_not_null(batch, "batch");
        require_not_null(height, "height");
        require_not_null(width, "width");
        *batch = static_cast<int32_t>(features->image.size(0));
        *height = static_cast<int32_t>(features->image.size(2));
        *width = static_cast<int32_t>(features->image.size(3));
    });
}

SSN_API int32_t ssn_diffusion_denoise(ssn_model* model, ssn_features* features, const float* x_t, const int64_t* timesteps,
                                      int32_t batch, int32_t height, int32_t width, float* x0) {
    return guarded([&] {
        require_kind(model, SSN_NETWORK_DIFFUSION, "denoising");
        require_not_null(features, "features");
        require_not_null(x_t, "x_t");
        require_not_null(x0, "x0");
        require_geometry(model, batch, height, width);
        if (features->model_id != model->id) fail(SSN_ERROR_INVALID_ARGUMENT, "the image features were computed by another model");
        const auto& image = features->image;
        if (image.size(2) != height || image.size(3) != width)
            fail(SSN_ERROR_SHAPE, "image features are " + std::to_string(image.size(2)) + "x" + std::to_string(image.size(3)) +
                                      ", the noisy mask is " + std::to_string(height) + "x" + std::to_string(width));
        if (image.size(0) != 1 && image.size(0) != batch)
            fail(SSN_ERROR_SHAPE, "image features have batch " + std::to_string(image.size(0)) + "; the denoiser batch " +
                                      std::to_string(batch) + " needs features of batch 1 or " + std::to_string(batch));
        apply_threads();
        auto t = timestep_tensor(timesteps, batch, model->device);
        c10::InferenceMode inference;
        auto noisy = input_tensor(x_t, {batch, kMaskChannels, height, width}, torch::kFloat32, model->device);
        copy_out(torch::tanh(model->diffusion->denoise_raw(image, features->levels, noisy, t)), x0);
    });
}

SSN_API int32_t ssn_optimizer_create(ssn_model* model, double learning_rate, double weight_decay, ssn_optimizer** optimizer) {
    return guarded([&] {
        require_not_null(model, "model");
        require_not_null(optimizer, "optimizer");
        *optimizer = nullptr;
        if (!(learning_rate > 0) || !(weight_decay >= 0))
            fail(SSN_ERROR_INVALID_ARGUMENT, "learning rate must be > 0 and weight decay >= 0");
        auto result = std::make_unique<ssn_optimizer>();
        result->model_id = model->id;
        result->adamw = std::make_unique<torch::optim::AdamW>(
            model->module().parameters(), torch::optim::AdamWOptions(learning_rate).weight_decay(weight_decay));
        *optimizer = result.release();
    });
}

SSN_API int32_t ssn_optimizer_free(ssn_optimizer* optimizer) {
    return guarded([&] { delete optimizer; });
}

SSN_API int32_t ssn_optimizer_set_learning_rate(ssn_optimizer* optimizer, double learning_rate) {
    return guarded([&] {
        require_not_null(optimizer, "optimizer");
        if (!(learning_rate >= 0)) fail(SSN_ERROR_INVALID_ARGUMENT, "learning rate must be >= 0");
        for (auto& group : optimizer->adamw->param_groups())
            static_cast<torch::optim::AdamWOptions&>(group.options()).lr(learning_rate);
    });
}

SSN_API int32_t ssn_optimizer_get_learning_rate(ssn_optimizer* optimizer, double* learning_rate) {
    return guarded([&] {
        require_not_null(optimizer, "optimizer");
        require_not_null(learning_rate, "learning_rate");
        *learning_rate = static_cast<torch::optim::AdamWOptions&>(optimizer->adamw->param_groups().front().options()).lr();
    });
}

SSN_API int32_t ssn_optimizer_load(ssn_optimizer* optimizer, const char* path) {
    return guarded([&] {
        require_not_null(optimizer, "optimizer");
        torch::serialize::InputArchive archive;
        open_archive(archive, path);
        c10::IValue has_optimizer;
        if (!archive.try_read("has_optimizer", has_optimizer) || !has_optimizer.isBool() || !has_optimizer.toBool())
            fail(SSN_ERROR_CHECKPOINT, std::string("checkpoint holds no optimizer state: ") + path);
        // The saved state is matched to parameters by position: check the parameter shapes line up.
        auto& params = optimizer->adamw->param_groups().front().params();
        c10::IValue names;
        archive.try_read("parameter_names", names);
        if (!names.isList() || names.toListRef().size() != params.size())
            fail(SSN_ERROR_CHECKPOINT, std::string("checkpoint optimizer state belongs to a model with another parameter list: ") + path);
        torch::serialize::InputArchive parameters;
        archive.try_read("parameters", parameters);
        for (size_t i = 0; i < params.size(); ++i) {
            torch::Tensor stored;
            if (!parameters.try_read("p" + std::to_string(i), stored) || stored.sizes() != params[i].sizes())
                fail(SSN_ERROR_CHECKPOINT, "checkpoint optimizer state does not fit parameter '" + names.toListRef()[i].toStringRef() +
                                               "': " + path);
        }
        torch::serialize::InputArchive state;
        if (!archive.try_read("optimizer", state)) fail(SSN_ERROR_CHECKPOINT, std::string("checkpoint optimizer state missing: ") + path);
        optimizer->adamw->load(state);
        c10::IValue learning_rate, weight_decay;
        if (!archive.try_read("optimizer_learning_rate", learning_rate) || !learning_rate.isDouble() ||
            !archive.try_read("optimizer_weight_decay", weight_decay) || !weight_decay.isDouble())
            fail(SSN_ERROR_CHECKPOINT, std::string("checkpoint optimizer settings missing: ") + path);
        for (auto& group : optimizer->adamw->param_groups()) {
            auto& options = static_cast<torch::optim::AdamWOptions&>(group.options());
            options.lr(learning_rate.toDouble());
            options.weight_decay(weight_decay.toDouble());
        }
    });
}

SSN_API int32_t ssn_preseg_train_step(ssn_model* model, ssn_optimizer* optimizer, const float* images, const uint8_t* labels,
                                      int32_t batch, int32_t height, int32_t width, ssn_loss* loss) {
    return guarded([&] {
        require_kind(model, SSN_NETWORK_PRESEGMENTATION, "presegmentation training");
        require_optimizer_for(optimizer, model);
        require_not_null(images, "images");
        require_not_null(labels, "labels");
        require_not_null(loss, "loss");
        require_geometry(model, batch, height, width);
        apply_threads();
        model->module().train();
        optimizer->adamw->zero_grad();
        train_forward_preseg(model, images, labels, batch, height, width, loss).backward();
        optimizer->adamw->step();
    });
}

SSN_API int32_t ssn_diffusion_train_step(ssn_model* model, ssn_optimizer* optimizer, const float* images, const float* x_t,
                                         const int64_t* timesteps, const float* x0, int32_t batch, int32_t height,
                                         int32_t width, ssn_loss* loss) {
    return guarded([&] {
        require_kind(model, SSN_NETWORK_DIFFUSION, "diffusion training");
        require_optimizer_for(optimizer, model);
        require_not_null(images, "images");
        require_not_null(x_t, "x_t");
        require_not_null(x0, "x0");
        require_not_null(loss, "loss");
        require_geometry(model, batch, height, width);
        apply_threads();
        model->module().train();
        optimizer->adamw->zero_grad();
        train_forward_diffusion(model, images, x_t, timesteps, x0, batch, height, width, loss).backward();
        optimizer->adamw->step();
    });
}

}  // extern "C"
