/** Homework 1 as a /v1/gradients body without a learning rate: the request most tests start from. */
export { homework1Problem as homework1 } from "../../src/api/examples.js";
