/** Whether a value is a plain object of fields: not null, not a list, not a scalar. */
export const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
