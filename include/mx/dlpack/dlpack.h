/*
 * DLPack 1.x data structures (the open tensor-exchange standard), declared for MX.
 * Layout and numbering follow the DLPack 1.0 specification exactly, so tensors cross
 * between MX, numpy, PyTorch and others without a copy.
 */
#ifndef MX_DLPACK_DLPACK_H_
#define MX_DLPACK_DLPACK_H_

#include <stddef.h>
#include <stdint.h>

#ifndef DLPACK_MAJOR_VERSION
#define DLPACK_MAJOR_VERSION 1
#define DLPACK_MINOR_VERSION 0

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the DLPack ABI a producer wrote a tensor with. */
typedef struct {
  uint32_t major;
  uint32_t minor;
} DLPackVersion;

typedef enum {
  kDLCPU = 1,
  kDLCUDA = 2,
  kDLCUDAHost = 3,
  kDLOpenCL = 4,
  kDLVulkan = 7,
  kDLMetal = 8,
  kDLVPI = 9,
  kDLROCM = 10,
  kDLROCMHost = 11,
  kDLExtDev = 12,
  kDLCUDAManaged = 13,
  kDLOneAPI = 14,
  kDLWebGPU = 15,
  kDLHexagon = 16,
  kDLMAIA = 17
} DLDeviceType;

typedef struct {
  DLDeviceType device_type;
  int32_t device_id;
} DLDevice;

typedef enum {
  kDLInt = 0,
  kDLUInt = 1,
  kDLFloat = 2,
  kDLOpaqueHandle = 3,
  kDLBfloat = 4,
  kDLComplex = 5,
  kDLBool = 6
} DLDataTypeCode;

typedef struct {
  uint8_t code;   /* a DLDataTypeCode */
  uint8_t bits;   /* bits per lane */
  uint16_t lanes; /* 1 for scalar types */
} DLDataType;

typedef struct {
  void* data;            /* borrowed from the manager; data + byte_offset is the first element */
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;        /* ndim entries, owned by the manager */
  int64_t* strides;      /* ndim entries in elements, or NULL for compact C order; owned by the manager */
  uint64_t byte_offset;
} DLTensor;

/* Legacy (unversioned) managed tensor: capsule name "dltensor". */
typedef struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;                              /* opaque to the consumer */
  void (*deleter)(struct DLManagedTensor* self);  /* consumer calls it once when done; may be NULL */
} DLManagedTensor;

#define DLPACK_FLAG_BITMASK_READ_ONLY (1UL << 0UL)
#define DLPACK_FLAG_BITMASK_IS_COPIED (1UL << 1UL)
#define DLPACK_FLAG_BITMASK_IS_SUBBYTE_TYPE_PADDED (1UL << 2UL)

/* Versioned managed tensor (DLPack >= 1.0): capsule name "dltensor_versioned". */
typedef struct DLManagedTensorVersioned {
  DLPackVersion version;
  void* manager_ctx;
  void (*deleter)(struct DLManagedTensorVersioned* self);
  uint64_t flags;
  DLTensor dl_tensor;
} DLManagedTensorVersioned;

#ifdef __cplusplus
}
#endif
#endif /* DLPACK_MAJOR_VERSION */
#endif /* MX_DLPACK_DLPACK_H_ */
