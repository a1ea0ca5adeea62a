/*
 * C ABI of the SpineSegDiff segmentation engine (libspineseg_native).
 *
 * Rules every entry point follows:
 *  - returns an ssn_status code (0 = success) and never lets a C++ exception escape;
 *  - on failure, ssn_last_error() on the same thread returns the message until the next call on that thread;
 *  - tensors cross the boundary as caller-owned, contiguous, row-major float32/int64/uint8 buffers in NCHW order;
 *    output buffers must hold exactly the documented element count (the caller checks sizes: C cannot);
 *  - handles are opaque and owned by the caller, released with the matching *_free function (NULL is accepted).
 *
 * Bump SSN_ABI_VERSION on any change to a signature, struct layout or enum value: the managed side refuses to
 * run against a library whose ssn_abi_version() differs from the version it was compiled for.
 */
#ifndef SPINESEG_NATIVE_H
#define SPINESEG_NATIVE_H

#include <stdint.h>

#if defined(_WIN32)
#define SSN_API __declspec(dllexport)
#else
#define SSN_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define SSN_ABI_VERSION 2
#define SSN_MAX_LEVELS 8

typedef enum ssn_status {
    SSN_OK = 0,
    SSN_ERROR_INVALID_ARGUMENT = 1, /* null pointer, bad size, bad enum value, bad configuration */
    SSN_ERROR_SHAPE = 2,            /* tensor shape does not fit the network or the other inputs */
    SSN_ERROR_IO = 3,               /* file missing or unreadable/unwritable */
    SSN_ERROR_CHECKPOINT = 4,       /* checkpoint of another kind, or names/shapes not matching its configuration */
    SSN_ERROR_DEVICE = 5,           /* requested device not available */
    SSN_ERROR_OUT_OF_MEMORY = 6,
    SSN_ERROR_TORCH = 7,            /* any other libtorch error */
    SSN_ERROR_UNKNOWN = 8
} ssn_status;

typedef enum ssn_network_kind {
    SSN_NETWORK_PRESEGMENTATION = 1, /* 1-channel slice -> 3 logits (canal, vertebra, disc) */
    SSN_NETWORK_DIFFUSION = 2        /* SpineSegDiff: image encoder + denoising U-Net predicting x0 */
} ssn_network_kind;

typedef enum ssn_device {
    SSN_DEVICE_AUTO = 0, /* CUDA when available, else CPU */
    SSN_DEVICE_CPU = 1,
    SSN_DEVICE_CUDA = 2  /* fails with SSN_ERROR_DEVICE when no CUDA device is usable */
} ssn_device;

typedef enum ssn_stage {
    SSN_STAGE_MAIN = 0,          /* presegmentation forward, or the diffusion denoiser forward */
    SSN_STAGE_IMAGE_ENCODER = 1  /* diffusion image encoder forward */
} ssn_stage;

typedef struct ssn_network_config {
    int32_t kind;                    /* ssn_network_kind */
    int32_t level_count;             /* resolution levels, 2..SSN_MAX_LEVELS; H and W must divide by 2^(level_count-1) */
    int32_t widths[SSN_MAX_LEVELS];  /* channels per level; entries past level_count are ignored (write 0) */
    int32_t time_embedding_dim;      /* diffusion: sinusoidal size (even); MLP width is 4x. presegmentation: 0 */
    float leaky_slope;               /* LeakyReLU negative slope */
} ssn_network_config;

typedef struct ssn_loss {
    double total;
    double mse;  /* diffusion only, 0 for presegmentation */
    double dice; /* soft Dice loss, mean over batch elements and channels */
    double bce;  /* binary cross-entropy, mean over elements */
} ssn_loss;

typedef struct ssn_model ssn_model;
typedef struct ssn_optimizer ssn_optimizer;
typedef struct ssn_features ssn_features;

/* ---- library and runtime ---- */
SSN_API int32_t ssn_abi_version(void);
/* Message of the last failed call on this thread ("" if none); valid until the next call on this thread. */
SSN_API const char* ssn_last_error(void);
SSN_API int32_t ssn_torch_version(int32_t* major, int32_t* minor, int32_t* patch);
SSN_API int32_t ssn_cuda_available(int32_t* available);
/* Intra-op threads for every thread that calls into the library (applied lazily per calling thread). */
SSN_API int32_t ssn_set_num_threads(int32_t threads);
SSN_API int32_t ssn_get_num_threads(int32_t* threads);
/* Seeds libtorch's generators (CPU and CUDA): parameter initialisation becomes reproducible. */
SSN_API int32_t ssn_manual_seed(uint64_t seed);

/* ---- models ---- */
SSN_API int32_t ssn_model_create(const ssn_network_config* config, int32_t device, ssn_model** model);
/* Creates a model from a checkpoint's stored configuration and parameters. Fails with SSN_ERROR_CHECKPOINT when
 * the checkpoint holds another kind than expected_kind or any parameter name/shape differs from the configuration. */
SSN_API int32_t ssn_model_load(const char* path, int32_t expected_kind, int32_t device, ssn_model** model);
/* Writes configuration + parameters, and the optimizer state when optimizer is not NULL (for exact resumption). */
SSN_API int32_t ssn_model_save(ssn_model* model, ssn_optimizer* optimizer, const char* path);
SSN_API int32_t ssn_model_free(ssn_model* model);
SSN_API int32_t ssn_model_config(ssn_model* model, ssn_network_config* config);
SSN_API int32_t ssn_model_device(ssn_model* model, int32_t* device);
SSN_API int32_t ssn_model_parameter_count(ssn_model* model, int64_t* count);
/* Warm start (ABI 2): copies a presegmentation network of the same widths and LeakyReLU slope into a diffusion network so that, before
 * any training, its x0 prediction equals the presegmentation: image encoder <- encoder, decoder <- decoder, head <-
 * head / 2 (tanh(z/2) = 2 sigmoid(z) - 1), and the mask branch (denoiser encoder) zero-initialised at the last
 * normalisation of every stage so it adds nothing until trained. Time conditioning stays at its identity start. */
SSN_API int32_t ssn_diffusion_init_from_presegmentation(ssn_model* diffusion, ssn_model* presegmentation);
/* Floating-point operations (2 x multiply-accumulates of convolutions and linear layers) of one forward of one
 * image of height x width through the given ssn_stage. */
SSN_API int32_t ssn_model_forward_flops(ssn_model* model, int32_t stage, int32_t height, int32_t width,
                                        int64_t* flops);

/* ---- presegmentation ---- */
/* images: batch x 1 x height x width. logits: batch x 3 x height x width (canal, vertebra, disc; apply sigmoid). */
SSN_API int32_t ssn_preseg_forward(ssn_model* model, const float* images, int32_t batch, int32_t height,
                                   int32_t width, float* logits);

/* ---- diffusion ---- */
/* Runs the image encoder once; the returned features serve every denoiser call for these images. */
SSN_API int32_t ssn_diffusion_encode(ssn_model* model, const float* images, int32_t batch, int32_t height,
                                     int32_t width, ssn_features** features);
SSN_API int32_t ssn_features_free(ssn_features* features);
SSN_API int32_t ssn_features_shape(ssn_features* features, int32_t* batch, int32_t* height, int32_t* width);
/* x_t: batch x 3 x height x width in [-1, 1]; timesteps: batch values >= 0; features of batch 1 (broadcast) or
 * batch. x0: batch x 3 x height x width, the predicted clean mask in [-1, 1]. */
SSN_API int32_t ssn_diffusion_denoise(ssn_model* model, ssn_features* features, const float* x_t,
                                      const int64_t* timesteps, int32_t batch, int32_t height, int32_t width,
                                      float* x0);

/* ---- training ---- */
SSN_API int32_t ssn_optimizer_create(ssn_model* model, double learning_rate, double weight_decay,
                                     ssn_optimizer** optimizer);
SSN_API int32_t ssn_optimizer_free(ssn_optimizer* optimizer);
SSN_API int32_t ssn_optimizer_set_learning_rate(ssn_optimizer* optimizer, double learning_rate);
SSN_API int32_t ssn_optimizer_get_learning_rate(ssn_optimizer* optimizer, double* learning_rate);
/* Restores the optimizer state saved with the model in path; fails if the file holds none or another model. */
SSN_API int32_t ssn_optimizer_load(ssn_optimizer* optimizer, const char* path);
/* One AdamW step on soft Dice + BCE. labels: batch x height x width label map (0 background, 1 canal,
 * 2 vertebra, 3 disc). */
SSN_API int32_t ssn_preseg_train_step(ssn_model* model, ssn_optimizer* optimizer, const float* images,
                                      const uint8_t* labels, int32_t batch, int32_t height, int32_t width,
                                      ssn_loss* loss);
/* One AdamW step on MSE(x0_hat, x0) + Dice + BCE of the [0,1]-mapped prediction. x0 in {-1, 1}. */
SSN_API int32_t ssn_diffusion_train_step(ssn_model* model, ssn_optimizer* optimizer, const float* images,
                                         const float* x_t, const int64_t* timesteps, const float* x0,
                                         int32_t batch, int32_t height, int32_t width, ssn_loss* loss);

#ifdef __cplusplus
}
#endif

#endif /* SPINESEG_NATIVE_H */
