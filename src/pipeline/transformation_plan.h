#pragma once

// A dataset's transformations (Obsrv's dataset_transformations rows, contracts §3.5) prepared
// once per registry snapshot for the transformer stage: dotted keys split, functions resolved,
// the encryption key checked. What cannot be honoured refuses the whole dataset at load, with
// the transformation and the reason named:
//   - `jsonata` transformations and conditions (JSONata is not implemented), conditions of any
//     other type (Obsrv fails every such field with ERR_0001, then its job throws), and function
//     types other than mask and encrypt (Obsrv silently ignores those);
//   - mask/encrypt without an `expr`, or with a field_key made only of dots;
//   - encrypt while system_settings' encryptionSecretKey is not 16, 24 or 32 bytes (Obsrv's
//     cipher would throw for every event).

#include <string>
#include <vector>

#include "common/result.h"
#include "dataset/model.h"
#include "dataset/system_settings.h"

namespace obsrv::pipeline {

enum class transform_function : uint8_t { encrypt, mask };

struct transformation_step {
    transform_function function = transform_function::mask;
    std::vector<std::string> source_path;  // transformation_function.expr, split at dots
    std::vector<std::string> field_path;   // field_key, split at dots
    dataset::transform_mode mode = dataset::transform_mode::strict;
};

struct transformation_plan {
    /// In Obsrv's order: grouped by function type as its Scala HashMap iterates the type names
    /// (encrypt, then mask), each group in the dataset's order. The order decides which result
    /// wins when field keys overlap and where new members land.
    std::vector<transformation_step> steps;
    /// The AES key (system_settings encryptionSecretKey) when a step encrypts.
    std::string encryption_key;
    /// Some field_key may change what the router reads of the event (its timestamp key, or a
    /// top-level obsrv_meta / indexTS member).
    bool rewrites_router_input = false;

    bool empty() const { return steps.empty(); }
};

/// Prepares `ds.transformations_config`; the error names the transformation
/// ("transformations_config[1] (field_key 'a.b'): ...") and what is wrong.
result<transformation_plan> compile_transformations(const dataset::dataset& ds,
                                                    const dataset::system_settings& settings);

}  // namespace obsrv::pipeline
