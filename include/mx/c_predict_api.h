/*
 * MX prediction API: MXNet 1.9's C predict interface (c_predict_api.h), implemented by libmx.
 *
 * The same function names, types and signatures as MXNet's header, so a C or C++ program written
 * for MXNet's predictor builds against libmx unchanged (include this header, link libmx). The
 * header is self-contained: it needs only <stdint.h> and <stdbool.h>.
 *
 * Conventions (MXNet's, not those of mx/c_api.h):
 *  - Every function returns 0 on success and -1 on failure; MXGetLastError() then returns the
 *    message of the failure on this thread. No function aborts the process.
 *  - Handles are void pointers. libmx keeps a table of live handles, so a NULL, freed or foreign
 *    handle (a list passed as a predictor, ...) is an error rather than a crash.
 *  - Sizes passed "for safety" (MXPredSetInput, MXPredGetOutput) must equal the element count.
 *  - A predictor is not for concurrent use from several threads; use one predictor per thread
 *    (MXPredCreateMultiThread makes several sharing one copy of the parameters).
 *
 * Details and the few differences from MXNet are in docs/predict.md.
 */
#ifndef MX_C_PREDICT_API_H_
#define MX_C_PREDICT_API_H_

#include <stdbool.h>
#include <stdint.h>

/* Same definition as in mx/c_api.h, so the two headers can be included in any order. */
#ifndef MX_API
#if defined(_WIN32)
#define MX_API __declspec(dllexport)
#elif defined(__GNUC__)
#define MX_API __attribute__((visibility("default")))
#else
#define MX_API
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef uint32_t mx_uint; /* MXNet's unsigned index / size type */
typedef float mx_float;   /* MXNet's float type */
typedef void* PredictorHandle; /* a predictor: a graph bound for inference with its parameters */
typedef void* NDListHandle;    /* a list of arrays loaded from an NDArray file, as float32 */
typedef void* NDArrayHandle;   /* an array: in libmx an mx_ndarray* (see MXPredSetMonitorCallback) */

/* Called once per monitored array. name: borrowed, valid during the call. array: an mx_ndarray*
 * (mx/c_api.h), borrowed, valid during the call only (do not free it; copy what you need).
 * callback_handle: the pointer given to MXPredSetMonitorCallback. */
typedef void (*PredMonitorCallback)(const char*, NDArrayHandle, void*);

/* The message of the last failed call on this thread ("" if none). Borrowed, valid until the next
 * failing call on this thread. */
MX_API const char* MXGetLastError(void);

/* Creates a predictor (inference only, no gradients).
 *  symbol_json_str       the graph in MXNet's JSON format (the contents of a -symbol.json file)
 *  param_bytes/size      the contents of a .params file (MXNet's NDArray format; names "arg:x" /
 *                        "aux:x" as written by save_checkpoint / export). Arrays named for
 *                        something that is not in the graph are ignored. May be NULL with size 0
 *                        when every argument is an input.
 *  dev_type, dev_id      1 = cpu, 2 = gpu
 *  num_input_nodes       number of inputs whose shapes follow
 *  input_keys            their names ({"data"} for a feed-forward net)
 *  input_shape_indptr    num_input_nodes + 1 offsets into input_shape_data ({0, 4} for one
 *                        4-d input)
 *  input_shape_data      the shapes, concatenated
 *  out                   the new predictor; free with MXPredFree
 * Every argument of the graph must be an input or in the parameters, except the label input of
 * an output layer (SoftmaxOutput and the *RegressionOutput / SVMOutput layers), which inference
 * does not read: it is allocated with its inferred shape and filled with zeros. Inputs start
 * zero-filled. Input dtypes are float32 (or the variable's __dtype__ attribute). */
MX_API int MXPredCreate(const char* symbol_json_str, const void* param_bytes, int param_size, int dev_type,
                        int dev_id, uint32_t num_input_nodes, const char** input_keys,
                        const uint32_t* input_shape_indptr, const uint32_t* input_shape_data,
                        PredictorHandle* out);

/* MXPredCreate, with dtypes (MXNet type flags: 0 float32, 1 float64, 2 float16, 3 uint8, 4 int32,
 * 5 int8, 6 int64, 7 bool, 12 bfloat16) for the arguments named in provided_arg_dtype_names.
 * Arguments loaded from the parameters keep the parameters' dtypes. */
MX_API int MXPredCreateEx(const char* symbol_json_str, const void* param_bytes, int param_size, int dev_type,
                          int dev_id, const uint32_t num_input_nodes, const char** input_keys,
                          const uint32_t* input_shape_indptr, const uint32_t* input_shape_data,
                          const uint32_t num_provided_arg_dtypes, const char** provided_arg_dtype_names,
                          const int* provided_arg_dtypes, PredictorHandle* out);

/* MXPredCreate whose outputs are internal results of the graph, one per output_keys entry, in
 * that order. A key is an output name of the graph's internals ("fc1_output", "bn_mean", "data")
 * or a node name ("fc1", meaning "fc1_output", as MXNet accepts). Unknown names are an error. */
MX_API int MXPredCreatePartialOut(const char* symbol_json_str, const void* param_bytes, int param_size,
                                  int dev_type, int dev_id, uint32_t num_input_nodes, const char** input_keys,
                                  const uint32_t* input_shape_indptr, const uint32_t* input_shape_data,
                                  uint32_t num_output_nodes, const char** output_keys, PredictorHandle* out);

/* Creates num_threads predictors (out must have room for num_threads handles) that share one
 * copy of the parameters; each has its own inputs and outputs and may run on its own thread.
 * Unlike MXNet, any engine works (MXNet required MXNET_ENGINE_TYPE=NaiveEngine). Each handle is
 * freed with MXPredFree. On failure no handle is written. */
MX_API int MXPredCreateMultiThread(const char* symbol_json_str, const void* param_bytes, int param_size,
                                   int dev_type, int dev_id, uint32_t num_input_nodes, const char** input_keys,
                                   const uint32_t* input_shape_indptr, const uint32_t* input_shape_data,
                                   int num_threads, PredictorHandle* out);

/* A new predictor for new input shapes (for example a smaller batch). It shares the parameters
 * with handle, which stays valid and unchanged; inputs not named keep their shapes. Only input
 * shapes may change: new shapes that would change a parameter's shape are an error naming it.
 * *out: free with MXPredFree. */
MX_API int MXPredReshape(uint32_t num_input_nodes, const char** input_keys, const uint32_t* input_shape_indptr,
                         const uint32_t* input_shape_data, PredictorHandle handle, PredictorHandle* out);

/* The shape of output index. *shape_data: borrowed, valid until the predictor is freed. */
MX_API int MXPredGetOutputShape(PredictorHandle handle, uint32_t index, uint32_t** shape_data,
                                uint32_t* shape_ndim);

/* The dtype (MXNet type flag) of output out_index, written to *out_dtype. */
MX_API int MXPredGetOutputType(PredictorHandle handle, uint32_t out_index, int* out_dtype);

/* Copies size float32 values into the argument named key (an input, or any other argument of
 * the graph), casting when the argument has another dtype. size must equal its element count. */
MX_API int MXPredSetInput(PredictorHandle handle, const char* key, const float* data, uint32_t size);

/* Runs the graph (inference mode). Errors of the computation may also surface at the next
 * MXPredGetOutput. */
MX_API int MXPredForward(PredictorHandle handle);

/* Step-wise forward for progress display: call with step = 0, 1, ... until *step_left is 0. The
 * number of steps is the number of graph nodes, as in MXNet. libmx runs the whole graph at
 * step 0; later steps only count down. */
MX_API int MXPredPartialForward(PredictorHandle handle, int step, int* step_left);

/* Copies output index as float32 (cast from its dtype) into data; size must equal its element
 * count. Waits for the computation. */
MX_API int MXPredGetOutput(PredictorHandle handle, uint32_t index, float* data, uint32_t size);

/* Frees a predictor. NULL is accepted; a freed or foreign handle is an error. */
MX_API int MXPredFree(PredictorHandle handle);

/* Loads an NDArray file from memory (a list or a dict; a mean image, parameters, ...) into a list
 * of float32 arrays. *out: free with MXNDListFree. *out_length: the number of arrays. */
MX_API int MXNDListCreate(const char* nd_file_bytes, int nd_file_size, NDListHandle* out, uint32_t* out_length);

/* Entry index of a list: its name ("" in a list file; with the "arg:"/"aux:" prefix as stored),
 * its float32 values and its shape. All out-pointers are borrowed, valid until the list is
 * freed. */
MX_API int MXNDListGet(NDListHandle handle, uint32_t index, const char** out_key, const float** out_data,
                       const uint32_t** out_shape, uint32_t* out_ndim);

/* Calls callback for the results of every op node at each MXPredForward / MXPredPartialForward
 * (in graph order, once the forward pass has run): each visible output, named "<node>_output"
 * (MXNet's output names); with monitor_all also each input of the node first, named
 * "<node>_<input name>" ("fc1_weight"). callback NULL turns monitoring off. Monitoring runs a
 * second executor that keeps every intermediate result, so it costs memory and time. */
MX_API int MXPredSetMonitorCallback(PredictorHandle handle, PredMonitorCallback callback, void* callback_handle,
                                    bool monitor_all);

/* Frees a list. NULL is accepted; a freed or foreign handle is an error. */
MX_API int MXNDListFree(NDListHandle handle);

#ifdef __cplusplus
}
#endif

#endif /* MX_C_PREDICT_API_H_ */
