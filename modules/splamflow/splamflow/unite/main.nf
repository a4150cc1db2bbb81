process SPLAMFLOW_UNITE {
    tag "${meta.id}"
    label 'process_single'

    conda "${moduleDir}/environment.yml"
    container 'ghcr.io/splamflow/splamflow:0.1.0'

    input:
    // every sample's junction BED (and an annotation's), each staged in a folder of its own so that
    // equal file names cannot clash
    tuple val(meta), path(junctions, stageAs: 'input_??????/*')
    val(chunk_size)

    output:
    tuple val(meta), path("union/chunk_*.bed"), emit: chunks
    tuple val("${task.process}"), val('splamflow'), eval("splam_score.py --version | cut -d ' ' -f 2"), emit: versions_splamflow, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    """
    splam_score.py unite \\
        ${junctions} \\
        -o union \\
        --chunk-size ${chunk_size} \\
        ${args}
    """

    stub:
    def args = task.ext.args ?: ''
    // without data the number of chunks is unknown: one empty chunk per input, so that a stub run
    // still scatters (several SPLAMFLOW_SCORE tasks for several inputs)
    def n_inputs = [junctions].flatten().size()
    """
    echo "${args}"
    mkdir union
    for i in \$(seq 0 ${n_inputs - 1}); do
        touch "union/chunk_\$(printf '%06d' "\$i").bed"
    done
    """
}
