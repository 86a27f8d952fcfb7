/**
 * A getter for state that lives exactly as long as its owner: the first call for an owner makes the value,
 * later calls return the same one, and it goes when the owner is collected (so a new device, runtime or
 * config starts with fresh state and the old state never outlives what it describes).
 */
export function perObject<Owner extends object, Value>(
  make: (owner: Owner) => Value,
): (owner: Owner) => Value {
  const values = new WeakMap<Owner, Value>();
  return (owner) => {
    let value = values.get(owner);
    if (value === undefined) {
      value = make(owner);
      values.set(owner, value);
    }
    return value;
  };
}
