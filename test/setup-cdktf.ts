// cdktf's jest matchers (toHaveResourceWithProperties, toHaveProviderWithProperties, ...).
import { Testing } from "cdktf";
// Types of the matchers, for `tsc --noEmit`.
import type {} from "cdktf/lib/testing/adapters/jest";

Testing.setupJest();
