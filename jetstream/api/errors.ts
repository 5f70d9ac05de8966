// JetStream API errors as values: an ApiError carries the error object clients receive
// ({code, err_code, description}).
import { JSErrors, type JSErrorName } from "./error_table.js";

export { JSErrors, type JSErrorName };

export interface ApiErrorJson {
  code: number;
  err_code: number;
  description: string;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly errCode: number,
    readonly description: string,
  ) {
    super(description);
  }

  toJSON(): ApiErrorJson {
    return { code: this.code, err_code: this.errCode, description: this.description };
  }
}

/** The named error, with {placeholders} in its description filled from params. */
export function jsError(name: JSErrorName, params: Record<string, string | number | bigint> = {}): ApiError {
  const def = JSErrors[name];
  let text: string = def.description;
  // 2.9.10, the version tsnats reports, says just "invalid JSON".
  if (name === "JSInvalidJSONErr" && params.err === undefined) text = "invalid JSON";
  text = text.replace(/\{(\w+)\}/g, (_, k: string) => (params[k] !== undefined ? String(params[k]) : `{${k}}`));
  return new ApiError(def.code, def.errCode, text);
}

/** JSStreamInvalidConfigF with a reason: the error most config validation failures produce. */
export function invalidConfig(reason: string): ApiError {
  return jsError("JSStreamInvalidConfigF", { err: reason });
}
