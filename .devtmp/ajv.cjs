const Ajv = require('ajv'); const ajv = new Ajv({ allErrors: true, strict: false });
const v = ajv.compile({ type: 'object', required: ['kind'], properties: { kind: { enum: ['data','audio','mixed'] }, files: { type: 'array' }, tracks: { type: 'array' } },
  allOf: [ { if: { properties: { kind: { enum: ['data','mixed'] } } }, then: { required: ['files'] } }, { if: { properties: { kind: { enum: ['audio','mixed'] } } }, then: { required: ['tracks'] } } ] });
v({ kind: 'data' }); console.log(JSON.stringify(v.errors.map(e => [e.keyword, e.instancePath, e.message])));
