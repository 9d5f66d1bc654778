/*
 * MX C ABI. The only header a binding may rely on.
 *
 * Rules (docs/abi.md):
 *  - Every fallible call returns an int status (MX_OK == 0). On failure mx_last_error() holds a
 *    thread-local message, and every out-parameter is left untouched.
 *  - Free functions return void and accept NULL.
 *  - Ownership is written next to every out-parameter: "caller frees with mx_x_free", or
 *    "borrowed, valid until ...".
 *  - The ABI is append-only: a function, once published, keeps its name and signature.
 *    MX_ABI_VERSION grows when functions are added.
 */
#ifndef MX_C_API_H_
#define MX_C_API_H_

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define MX_API __declspec(dllexport)
#elif defined(__GNUC__)
#define MX_API __attribute__((visibility("default")))
#else
#define MX_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define MX_ABI_VERSION 2

/* ---------------------------------------------------------------- status codes */
enum {
  MX_OK = 0,
  MX_ERR_INVALID_ARGUMENT = 1, /* a parameter value or argument is wrong */
  MX_ERR_SHAPE = 2,            /* shapes do not agree */
  MX_ERR_DTYPE = 3,            /* a dtype is wrong or unsupported for the op */
  MX_ERR_NOT_FOUND = 4,        /* unknown op, key or file */
  MX_ERR_IO = 5,               /* reading or writing a file or buffer failed, or it is corrupt */
  MX_ERR_OUT_OF_MEMORY = 6,
  MX_ERR_UNSUPPORTED = 7,      /* a feature this build or this version does not have */
  MX_ERR_INTERNAL = 8,         /* a bug in MX */
  MX_ERR_INDEX = 9,            /* an index is out of range */
  MX_ERR_HANDLE = 10           /* a NULL, freed or foreign handle */
};

/* ---------------------------------------------------------------- dtypes (MXNet type flags) */
enum {
  MX_FLOAT32 = 0,
  MX_FLOAT64 = 1,
  MX_FLOAT16 = 2,
  MX_UINT8 = 3,
  MX_INT32 = 4,
  MX_INT8 = 5,
  MX_INT64 = 6,
  MX_BOOL = 7,
  MX_BFLOAT16 = 12
};

/* ---------------------------------------------------------------- device types (MXNet numbering) */
enum { MX_CPU = 1, MX_GPU = 2, MX_CPU_PINNED = 3 };

/* ---------------------------------------------------------------- handles */
typedef struct mx_ndarray mx_ndarray;           /* an n-dimensional array (or a view of one) */
typedef struct mx_ndarray_list mx_ndarray_list; /* a loaded list of arrays with optional names */
typedef struct mx_op mx_op;                     /* a registered operator; lives for the process */
typedef struct mx_op_params mx_op_params;       /* parsed, validated parameters of one op */
typedef struct mx_symbol mx_symbol;             /* a symbolic graph (one or more outputs) */
typedef struct mx_executor mx_executor;         /* a symbol bound to arrays (bind / simple_bind) */
typedef struct mx_cached_op mx_cached_op;       /* a traced graph run as one op (hybridize) */
typedef struct mx_infer_result mx_infer_result; /* shapes or dtypes inferred for a symbol */

struct DLManagedTensor;          /* include/mx/dlpack/dlpack.h */
struct DLManagedTensorVersioned; /* include/mx/dlpack/dlpack.h */

/* Called by libmx when it no longer needs an external buffer. May run on an engine worker
 * thread, never while libmx holds a lock the caller could need. */
typedef void (*mx_deleter)(void* ctx);

/* ---------------------------------------------------------------- library */

/* The ABI version this library implements (MX_ABI_VERSION it was built with). Never fails. */
MX_API int mx_abi_version(void);

/* Message of the last failed call on this thread. Borrowed, valid until the next failing call on
 * this thread. Never NULL ("" when there was no error). */
MX_API const char* mx_last_error(void);

/* Status code of the last failed call on this thread (MX_OK if none). */
MX_API int mx_last_status(void);

/* Build and runtime information by key: "version", "cuda" ("0"/"1"), "blas", "dnnl" ("onednn
 * <version> (<threading>)", "none" when built without it, "disabled (MX_DNNL=0)"), "openmp",
 * "engine" (ThreadedEngine or NaiveEngine), "num_threads". *value is borrowed, valid for the
 * process. Unknown keys give MX_ERR_NOT_FOUND. */
MX_API int mx_lib_info(const char* key, const char** value);

/* Number of GPUs visible to this build (0 in a build without CUDA). */
MX_API int mx_gpu_count(int* out);

/* ---------------------------------------------------------------- NDArray: create and inspect */

/* New array with uninitialised contents. shape may be NULL when ndim == 0 (a scalar).
 * *out: caller frees with mx_ndarray_free. */
MX_API int mx_ndarray_create(const int64_t* shape, int ndim, int dtype, int dev_type, int dev_id,
                             mx_ndarray** out);

/* Wraps caller memory without a copy (C order, contiguous). On success libmx owns the buffer and
 * calls deleter(deleter_ctx) once when the last array using it dies (deleter may be NULL). On
 * failure nothing is taken: the caller still owns the buffer and deleter is never called.
 * *out: caller frees with mx_ndarray_free. */
MX_API int mx_ndarray_wrap(void* data, const int64_t* shape, int ndim, int dtype, int dev_type,
                           int dev_id, mx_deleter deleter, void* deleter_ctx, mx_ndarray** out);

/* Releases this handle. The storage lives on while views or pending operations use it.
 * Accepts NULL. */
MX_API void mx_ndarray_free(mx_ndarray* arr);

/* *shape: borrowed, valid until arr is freed. */
MX_API int mx_ndarray_shape(const mx_ndarray* arr, int* ndim, const int64_t** shape);
MX_API int mx_ndarray_dtype(const mx_ndarray* arr, int* dtype);
MX_API int mx_ndarray_device(const mx_ndarray* arr, int* dev_type, int* dev_id);

/* Waits for pending writes, then gives the address of the first element. *data: borrowed, valid
 * while arr or any array sharing its storage lives; contents change if ops write to it later. */
MX_API int mx_ndarray_data(mx_ndarray* arr, void** data);

/* An id shared by every array viewing the same storage (for identity checks). */
MX_API int mx_ndarray_storage_id(const mx_ndarray* arr, uint64_t* id);

/* Synchronous copies between the array and host memory of exactly nbytes
 * (= size * itemsize, else MX_ERR_INVALID_ARGUMENT). */
MX_API int mx_ndarray_copy_from_host(mx_ndarray* arr, const void* src, size_t nbytes);
MX_API int mx_ndarray_copy_to_host(mx_ndarray* arr, void* dst, size_t nbytes);

/* Asynchronous copy of src into dst (same shape; dtypes may differ: values are cast; devices may
 * differ). */
MX_API int mx_ndarray_copyto(mx_ndarray* src, mx_ndarray* dst);

/* ---------------------------------------------------------------- NDArray: views (share storage) */

/* Same bytes, new shape (sizes must match; one dim may be -1). *out: caller frees. */
MX_API int mx_ndarray_reshape(mx_ndarray* arr, const int64_t* shape, int ndim, mx_ndarray** out);
/* Rows [begin, end) along axis 0. *out: caller frees. */
MX_API int mx_ndarray_slice(mx_ndarray* arr, int64_t begin, int64_t end, mx_ndarray** out);
/* Row idx along axis 0 with that axis dropped; negative idx counts from the end. *out: caller frees. */
MX_API int mx_ndarray_at(mx_ndarray* arr, int64_t idx, mx_ndarray** out);

/* ---------------------------------------------------------------- synchronisation */

/* Each rethrows (as a status) an error raised by an asynchronous op that wrote this array. */
MX_API int mx_ndarray_wait_to_read(mx_ndarray* arr);
MX_API int mx_ndarray_wait_to_write(mx_ndarray* arr);
/* Waits for all pushed work; returns the first asynchronous error raised since the last call. */
MX_API int mx_wait_all(void);

/* ---------------------------------------------------------------- DLPack 1.x */

/* Exports a view that keeps the storage alive. Waits for pending writes first.
 * *out: the consumer calls (*out)->deleter(*out) once. */
MX_API int mx_ndarray_to_dlpack(mx_ndarray* arr, struct DLManagedTensorVersioned** out);
MX_API int mx_ndarray_to_dlpack_legacy(mx_ndarray* arr, struct DLManagedTensor** out);

/* Imports without a copy. On success libmx owns tensor and calls its deleter when done; on
 * failure ownership stays with the caller. Compact C-order strides (or NULL) only.
 * *out: caller frees with mx_ndarray_free. */
MX_API int mx_ndarray_from_dlpack(struct DLManagedTensorVersioned* tensor, mx_ndarray** out);
MX_API int mx_ndarray_from_dlpack_legacy(struct DLManagedTensor* tensor, mx_ndarray** out);

/* ---------------------------------------------------------------- files (MXNet's binary format) */

/* Saves n arrays; names is NULL for a list, or n UTF-8 names for a dict. */
MX_API int mx_ndarray_save(const char* path, size_t n, mx_ndarray* const* arrays,
                           const char* const* names);
/* Same bytes as mx_ndarray_save, in memory. *buf: caller frees with mx_buffer_free. */
MX_API int mx_ndarray_save_to_buffer(size_t n, mx_ndarray* const* arrays, const char* const* names,
                                     void** buf, size_t* len);
/* Loads a whole file or buffer (a list or a dict). *out: caller frees with mx_ndarray_list_free. */
MX_API int mx_ndarray_load(const char* path, mx_ndarray_list** out);
MX_API int mx_ndarray_load_from_buffer(const void* buf, size_t len, mx_ndarray_list** out);

MX_API int mx_ndarray_list_size(const mx_ndarray_list* list, size_t* n);
/* *arr: a new handle, caller frees with mx_ndarray_free. *name: borrowed, valid until the list is
 * freed; NULL when the file held a list without names. Either pointer may be NULL. */
MX_API int mx_ndarray_list_get(const mx_ndarray_list* list, size_t i, mx_ndarray** arr,
                               const char** name);
MX_API void mx_ndarray_list_free(mx_ndarray_list* list);
MX_API void mx_buffer_free(void* buf);

/* ---------------------------------------------------------------- operator registry */

/* Every registered op name, aliases included. *names: borrowed, valid for the process. */
MX_API int mx_op_list(size_t* count, const char* const** names);

/* Looks an op up by name or alias. *op: borrowed, valid for the process. */
MX_API int mx_op_find(const char* name, const mx_op** op);

/* Documentation of an op. Every pointer out is borrowed, valid for the process; any out pointer
 * may be NULL. param_types read as MXNet writes them ("int", "float", "boolean", "Shape(tuple)",
 * "{'a', 'b'}", "string", "dtype", ..., with ", optional, default=..." or ", required").
 * input_names lists the fixed inputs; for a variadic op it is one name and *key_var_num_args names
 * the parameter that counts the inputs ("" otherwise). */
MX_API int mx_op_info(const mx_op* op, const char** name, const char** doc, int* num_params,
                      const char* const** param_names, const char* const** param_types,
                      const char* const** param_defaults, const char* const** param_docs,
                      int* num_inputs, const char* const** input_names,
                      const char** key_var_num_args);

/* Other facts about an op, by key, as strings: "dtypes" (comma-separated dtype names the op
 * computes in), "num_outputs" (a number, or "variable" when parameters decide it: see
 * mx_op_arity), "has_hidden_outputs" ("0"/"1": the op keeps intermediates for its gradient that
 * callers never see), "mutate_inputs" (comma-separated input indices), "needs_rng"
 * ("0"/"1"), "differentiable" ("0"/"1"), "aliases", "category". Borrowed, valid for the process.
 * Unknown keys give MX_ERR_NOT_FOUND. */
MX_API int mx_op_attr(const mx_op* op, const char* key, const char** value);

/* Parses and validates parameters (MXNet syntax: kernel="(3,3)", act_type="relu"). Identical
 * parameter sets share one parsed object, so the hot path parses once.
 * *out: caller frees with mx_op_params_free. */
MX_API int mx_op_params_create(const mx_op* op, int num, const char* const* keys,
                               const char* const* values, mx_op_params** out);
MX_API void mx_op_params_free(mx_op_params* params);

/* Number of inputs the op takes and outputs it returns under these parameters (params may be
 * NULL for the defaults). */
MX_API int mx_op_arity(const mx_op* op, const mx_op_params* params, int* num_inputs,
                       int* num_outputs);

/* Runs an op (asynchronously: errors inside the kernel surface at the next wait or read).
 * params may be NULL for the defaults. outputs has num_outputs slots, num_outputs equal to what
 * mx_op_arity gives: a slot holding an array is written in place; a NULL slot receives a new
 * array that the caller frees with mx_ndarray_free. On failure no slot changes. */
MX_API int mx_op_invoke(const mx_op* op, const mx_op_params* params, int num_inputs,
                        mx_ndarray* const* inputs, int num_outputs, mx_ndarray** outputs);

/* Convenience for C callers: find by name, parse (cached) and invoke. *num_outputs is the
 * capacity of outputs on entry (slots as in mx_op_invoke) and the count written on return. */
MX_API int mx_op_invoke_by_name(const char* name, int num_params, const char* const* keys,
                                const char* const* values, int num_inputs,
                                mx_ndarray* const* inputs, int* num_outputs, mx_ndarray** outputs);

/* ---------------------------------------------------------------- training mode */

/* Sets whether ops invoked from this thread run in training mode (Dropout drops, BatchNorm uses
 * batch statistics); *prev (may be NULL) receives the previous setting. Per thread, default 0. */
MX_API int mx_autograd_set_training(int training, int* prev);
MX_API int mx_autograd_is_training(int* out);

/* ---------------------------------------------------------------- autograd */

/* Recording (per thread): ops on arrays that need gradients are added to a graph.
 * *prev (may be NULL) receives the previous setting. */
MX_API int mx_autograd_set_recording(int recording, int* prev);
MX_API int mx_autograd_is_recording(int* out);

/* Marks n arrays as variables: grads[i] (same shape and dtype) receives the gradient by
 * grad_reqs[i]: 0 null, 1 write, 3 add (MXNet's numbering). */
MX_API int mx_autograd_mark_variables(int n, mx_ndarray* const* vars, const int* grad_reqs,
                                      mx_ndarray* const* grads);

/* Backward from n heads; head_grads may be NULL (ones) or hold NULL entries (ones for that head).
 * retain_graph keeps the graph for another pass; create_graph records the gradient computation
 * (higher order); is_train runs the gradient ops in training mode. */
MX_API int mx_autograd_backward(int n, mx_ndarray* const* heads, mx_ndarray* const* head_grads,
                                int retain_graph, int create_graph, int is_train);

/* Gradients of the heads w.r.t. nv variables, returned in out (nv new handles, caller frees)
 * without touching the variables' gradient buffers. */
MX_API int mx_autograd_grad(int nh, mx_ndarray* const* heads, mx_ndarray* const* head_grads, int nv,
                            mx_ndarray* const* variables, int retain_graph, int create_graph,
                            int is_train, mx_ndarray** out);

/* The gradient buffer of a marked array (*out: new handle, caller frees; NULL when the array is
 * not marked). */
MX_API int mx_ndarray_get_grad(mx_ndarray* arr, mx_ndarray** out);

/* The same data cut from the graph (*out: new handle, caller frees). */
MX_API int mx_ndarray_detach(mx_ndarray* arr, mx_ndarray** out);

/* ---------------------------------------------------------------- random numbers */

/* Seeds the generators of every device (counter-based, so results do not depend on threads). */
MX_API int mx_random_seed(uint64_t seed);

/* ---------------------------------------------------------------- memory */

/* Returns cached, unused blocks of the device's pool to the system. */
MX_API int mx_storage_release_cached(int dev_type, int dev_id);
/* Bytes in use by arrays and bytes held idle in the device's pool. */
MX_API int mx_storage_stats(int dev_type, int dev_id, size_t* in_use, size_t* cached);

/* ---------------------------------------------------------------- autograd: user-defined functions */

/* The backward of a function recorded with mx_autograd_record_function (MXNet's
 * autograd.Function). Called on the thread that runs mx_autograd_backward / mx_autograd_grad,
 * inside its walk (never on an engine worker), so it may invoke ops and wait on arrays; while the
 * walk has create_graph set, the ops it invokes are recorded, so a function whose backward uses
 * differentiable ops can be differentiated again.
 *  - outputs: the function's num_outputs outputs, attached to its node (so a backward computed
 *    from them is differentiable through the function again): use these rather than keeping
 *    handles to the outputs in user_data, which would keep the node alive from inside itself.
 *  - ograds: num_outputs gradients of the outputs, in output order (zeros where no gradient
 *    flows). outputs and ograds are borrowed, valid until the callback returns (libmx frees them).
 *  - igrads: num_inputs slots, one per input, all NULL on entry. Store in a slot a new handle
 *    (e.g. the output of mx_op_invoke) holding that input's gradient, same shape and dtype as the
 *    input; libmx takes the handle over and frees it. A slot left NULL means no gradient.
 *  - Return MX_OK, or a non-zero status after writing a NUL-terminated message of at most err_len
 *    bytes (truncated) into err: backward then fails with that status (MX_ERR_INTERNAL where it
 *    is not an MX_ERR_* code) and a message naming the function and quoting err. Handles stored
 *    in igrads before a failure are freed by libmx. */
typedef int (*mx_autograd_backward_fn)(void* user_data, int num_outputs, mx_ndarray* const* outputs,
                                       mx_ndarray* const* ograds, int num_inputs, mx_ndarray** igrads,
                                       char* err, size_t err_len);

/* Records outputs, computed from inputs while recording was paused (mx_autograd_set_recording),
 * as ONE node of the graph whose backward is fn. name (may be NULL: "custom function") names the
 * function in error messages. Each outputs[i] handle is attached to the node in place (it must
 * be a new array, not one of the inputs). Nothing is recorded when this thread is not recording
 * or no input is part of a graph.
 * Ownership of user_data: on success libmx owns it and calls release(user_data) (release may be
 * NULL) exactly once when it no longer needs fn: when the node is freed (a backward without
 * retain_graph, or the last array of the graph dying), or before this call returns when nothing
 * was recorded. release may run on any thread that drops the last reference to the graph. On
 * failure nothing is taken: release is not called. */
MX_API int mx_autograd_record_function(const char* name, int num_inputs, mx_ndarray* const* inputs,
                                       int num_outputs, mx_ndarray* const* outputs,
                                       mx_autograd_backward_fn fn, void* user_data,
                                       void (*release)(void*));

/* The "fresh gradient" flag of a marked array: set by mx_autograd_backward when it writes the
 * array's gradient buffer, cleared by the caller (an optimizer, after using the gradient) with
 * mx_ndarray_set_grad_state, so stale gradients can be detected. *fresh is 0 for an array that
 * is not marked; setting it on such an array is MX_ERR_INVALID_ARGUMENT. */
MX_API int mx_ndarray_get_grad_state(mx_ndarray* arr, int* fresh);
MX_API int mx_ndarray_set_grad_state(mx_ndarray* arr, int fresh);

/* ---------------------------------------------------------------- symbols (graphs) */
/* Lists returned by the symbol and executor functions ("const char* const** names") are borrowed
 * from the handle, valid until the next call that lists on the same handle or its free. */

/* A free variable. */
MX_API int mx_symbol_variable(const char* name, mx_symbol** out); /* caller frees with mx_symbol_free */
MX_API void mx_symbol_free(mx_symbol* sym);
/* An op node: params as MXNet-syntax key/values (keys written "__x__" are node attributes);
 * inputs positional (input_keys NULL) or named by the op's input names. Inputs not given become
 * variables "<name>_<input>"; a variadic op's count parameter is set from the inputs when absent;
 * name NULL or "" gets an automatic name ("convolution0"). Each input must have one output. */
MX_API int mx_symbol_create(const char* op_name, int num_params, const char* const* keys,
                            const char* const* vals, int num_inputs, const char* const* input_keys,
                            mx_symbol* const* inputs, const char* name, mx_symbol** out);
/* A copy with free variables replaced: by name (keys) or, keys NULL, in list_arguments order. */
MX_API int mx_symbol_compose(const mx_symbol* sym, const char* name, int num_args, const char* const* keys,
                             mx_symbol* const* args, mx_symbol** out);
MX_API int mx_symbol_copy(const mx_symbol* sym, mx_symbol** out);
MX_API int mx_symbol_group(int num, mx_symbol* const* syms, mx_symbol** out);
MX_API int mx_symbol_num_outputs(const mx_symbol* sym, size_t* out);
MX_API int mx_symbol_get_output(const mx_symbol* sym, size_t index, mx_symbol** out);
MX_API int mx_symbol_get_internals(const mx_symbol* sym, mx_symbol** out);
/* The inputs of the head nodes; *out is NULL when they have none (a variable). */
MX_API int mx_symbol_get_children(const mx_symbol* sym, mx_symbol** out);
/* which: 0 arguments, 1 outputs, 2 auxiliary states, 3 inputs (arguments and aux, graph order). */
MX_API int mx_symbol_list(mx_symbol* sym, int which, size_t* n, const char* const** names);
/* Name of the single head node; *name is NULL for a symbol with several outputs. Borrowed. */
MX_API int mx_symbol_name(mx_symbol* sym, const char** name);
/* Attribute of the head node; *found 0 when absent (*value then NULL). Borrowed value. */
MX_API int mx_symbol_get_attr(mx_symbol* sym, const char* key, const char** value, int* found);
MX_API int mx_symbol_set_attr(mx_symbol* sym, const char* key, const char* value);
/* Attributes as triples (node name, key, value): *n triples in 3 * *n strings. recursive 0: head
 * node only. */
MX_API int mx_symbol_list_attr(mx_symbol* sym, int recursive, size_t* n, const char* const** triples);
/* MXNet's nnvm JSON. The string is borrowed from sym. */
MX_API int mx_symbol_to_json(mx_symbol* sym, const char** json);
MX_API int mx_symbol_from_json(const char* json, mx_symbol** out);
MX_API int mx_symbol_save(mx_symbol* sym, const char* path);
MX_API int mx_symbol_load(const char* path, mx_symbol** out);
/* Gradient symbol of a loss symbol with respect to the named arguments (head gradients ones). */
MX_API int mx_symbol_gradient(const mx_symbol* sym, int num_wrt, const char* const* wrt, mx_symbol** out);

/* Shape inference: known shapes by argument name (keys) or, keys NULL, for the first num
 * arguments in order; shape i is ndims[i] entries of dims, taken consecutively (ndim -1: unknown).
 * partial 0: a shape that cannot be inferred is an error naming the node; 1: left unknown. */
MX_API int mx_symbol_infer_shape(mx_symbol* sym, int num, const char* const* keys, const int* ndims,
                                 const int64_t* dims, int partial, mx_infer_result** out);
/* Dtype inference: known dtypes (MX_FLOAT32 ...; -1 unknown) by name or position. */
MX_API int mx_symbol_infer_type(mx_symbol* sym, int num, const char* const* keys, const int* dtypes,
                                int partial, mx_infer_result** out);
/* which: 0 arguments, 1 outputs, 2 auxiliary states. */
MX_API int mx_infer_result_size(const mx_infer_result* res, int which, size_t* n);
/* Borrowed from res; *ndim -1 when unknown. */
MX_API int mx_infer_result_shape(const mx_infer_result* res, int which, size_t i, int* ndim,
                                 const int64_t** dims);
MX_API int mx_infer_result_dtype(const mx_infer_result* res, int which, size_t i, int* dtype);
/* 1 when everything was inferred. */
MX_API int mx_infer_result_complete(const mx_infer_result* res, int* complete);
MX_API void mx_infer_result_free(mx_infer_result* res);

/* ---------------------------------------------------------------- executors */
/* Flags for bind / simple_bind / cached ops. */
enum { MX_EXEC_NO_MEMORY_PLAN = 1 };
/* grad_req values (MXNet's OpReqType). */
enum { MX_GRAD_NULL = 0, MX_GRAD_WRITE = 1, MX_GRAD_INPLACE = 2, MX_GRAD_ADD = 3 };

/* Binds sym to arrays used in place: args in list_arguments order, arg_grads likewise (entries
 * may be NULL where grad_reqs[i] is MX_GRAD_NULL; grad_reqs NULL means all MX_GRAD_NULL), aux in
 * list_auxiliary_states order. Counts, shapes and dtypes are checked. */
MX_API int mx_executor_bind(mx_symbol* sym, int dev_type, int dev_id, int num_args, mx_ndarray* const* args,
                            mx_ndarray* const* arg_grads, const int* grad_reqs, int num_aux,
                            mx_ndarray* const* aux, int flags, mx_executor** out);
/* Allocates everything (zero-filled) from input shapes given by name (as mx_symbol_infer_shape
 * with keys), optional dtypes by name (num_types may be 0) and grad_reqs by name (num_reqs 0: all
 * arguments MX_GRAD_WRITE; a key "*" sets the default for names not listed). */
MX_API int mx_executor_simple_bind(mx_symbol* sym, int dev_type, int dev_id, int num_shapes,
                                   const char* const* shape_keys, const int* ndims, const int64_t* dims,
                                   int num_types, const char* const* type_keys, const int* dtypes,
                                   int num_reqs, const char* const* req_keys, const int* reqs, int flags,
                                   mx_executor** out);
MX_API void mx_executor_free(mx_executor* exec);
MX_API int mx_executor_forward(mx_executor* exec, int is_train);
/* out_grads: num entries (0 or the number of outputs; NULL entries mean ones). */
MX_API int mx_executor_backward(mx_executor* exec, int num, mx_ndarray* const* out_grads);
/* which: 0 arguments, 1 argument gradients, 2 auxiliary states, 3 outputs. */
MX_API int mx_executor_num(mx_executor* exec, int which, size_t* n);
/* A new handle to array i of that list (caller frees); *out is NULL for a gradient with req null. */
MX_API int mx_executor_get(mx_executor* exec, int which, size_t i, mx_ndarray** out);
/* A new executor for new shapes (by argument name), sharing unchanged arrays. */
MX_API int mx_executor_reshape(mx_executor* exec, int num_shapes, const char* const* shape_keys,
                               const int* ndims, const int64_t* dims, int partial_shaping,
                               int allow_up_sizing, mx_executor** out);
/* Bytes of intermediate buffers with the memory plan, and without sharing. */
MX_API int mx_executor_memory(mx_executor* exec, size_t* planned_bytes, size_t* naive_bytes);

/* ---------------------------------------------------------------- cached ops (hybridize) */
/* flags as key/values: static_alloc, static_shape ("true"/"false"); unknown keys are errors. */
MX_API int mx_cached_op_create(mx_symbol* sym, int num_flags, const char* const* keys,
                               const char* const* vals, int exec_flags, mx_cached_op** out);
MX_API void mx_cached_op_free(mx_cached_op* op);
/* inputs in the symbol's list_inputs order. *outputs: a new list (caller frees with
 * mx_ndarray_list_free); recorded into autograd as one node when recording. */
MX_API int mx_cached_op_invoke(mx_cached_op* op, int num_inputs, mx_ndarray* const* inputs,
                               mx_ndarray_list** outputs);
MX_API int mx_cached_op_memory(mx_cached_op* op, size_t* planned_bytes, size_t* naive_bytes);

#ifdef __cplusplus
}
#endif

#endif /* MX_C_API_H_ */
